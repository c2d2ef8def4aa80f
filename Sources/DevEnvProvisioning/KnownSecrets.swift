import DevEnvModel
import DevEnvRuntime
import Foundation
import StateStore

extension SecretRule {
    /// The stack's secret values: generated ones in the store, and those the file gives
    /// (secret-named environment values, role, admin and Redis passwords); longest first, so a
    /// secret containing another is masked whole. Values under 4 characters are left out: they
    /// would mask ordinary words.
    public static func knownSecrets(of stack: Stack, store: StateStore?) -> [String] {
        var values = Set((try? store?.secrets(project: stack.name).values.map { $0 }) ?? [])
        for service in stack.services {
            for (key, value) in service.environment where isSecretName(key) { values.insert(value) }
            let postgres = service.devenv?.postgres
            let given =
                (postgres?.roles.compactMap(\.password) ?? [])
                + [
                    postgres?.admin?.password, service.devenv?.redis?.password,
                ].compactMap { $0 }
            values.formUnion(given)
        }
        return values.filter { $0.count >= 4 && $0 != "generated" }.sorted { $0.count > $1.count }
    }
}
