import Foundation
import TestSupport
import Testing

/// `devenv render` output checked by a real validator: `kubernetes-validate --strict` (PyPI,
/// Kubernetes 1.37 schemas), from the venv `make test` sets up.
@Suite struct RenderTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
        .standardizedFileURL.path

    func validator() throws -> URL {
        let python = try #require(
            ProcessInfo.processInfo.environment["DEVENV_TEST_PYTHON"],
            "DEVENV_TEST_PYTHON is not set: run 'make test' (its venv has kubernetes-validate)")
        return URL(fileURLWithPath: python).deletingLastPathComponent().appendingPathComponent("kubernetes-validate")
    }

    func render(_ flavor: String, _ stack: String, extra: [String] = []) throws -> (ProcessResult, String) {
        let out = NSTemporaryDirectory() + "devenv-render-\(UUID().uuidString.prefix(8))"
        let result = try runProcess(
            devenvExecutable(), ["render", flavor, "-f", Self.repository + "/" + stack, "-o", out] + extra,
            environment: ["DIALS_BACKEND": Self.repository + "/compose/dials/backend"])
        return (result, out)
    }

    func files(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted().map { directory + "/" + $0 }
    }

    @Test(arguments: ["compose/default/compose.yaml", "Tests/IntegrationTests/stacks/dials/compose.yaml"])
    func kubernetesManifestsPassStrictValidation(stack: String) throws {
        let (result, out) = try render("kubernetes", stack)
        defer { try? FileManager.default.removeItem(atPath: out) }
        #expect(result.status == 0, "\(result.stderr)")
        let manifests = try files(out)
        #expect(manifests.contains { $0.hasSuffix("/backend.yaml") })
        let validation = try runProcess(try validator(), ["--strict"] + manifests)
        #expect(validation.status == 0, "\(validation.stdout)\(validation.stderr)")
        #expect(!validation.stdout.contains("WARN") && !validation.stderr.contains("ERROR"))
    }

    @Test func secretsAreReferencesAndPlaceholdersNeverValues() throws {
        let (result, out) = try render("kubernetes", "compose/default/compose.yaml")
        defer { try? FileManager.default.removeItem(atPath: out) }
        #expect(result.status == 0)
        let backend = try String(contentsOfFile: out + "/backend.yaml", encoding: .utf8)
        #expect(backend.contains("secretKeyRef"))
        #expect(backend.contains("name: backend-secret"))
        #expect(!backend.contains("{{"), "templates are not resolved into manifests")
        let example = try String(contentsOfFile: out + "/backend-secret.example.yaml", encoding: .utf8)
        #expect(
            example.contains(
                "DJANGO_DATABASE_PASSWORD: '<set me: was {{ db.roles.dials.password }} in the stack file>'"))
        let db = try String(contentsOfFile: out + "/db.yaml", encoding: .utf8)
        #expect(db.contains("kind: StatefulSet"))
        #expect(db.contains("key: POSTGRES_PASSWORD"))
    }

    @Test func openshiftRoutesAndAnExternalDatabase() throws {
        let (result, out) = try render(
            "openshift", "compose/default/compose.yaml", extra: ["--external-db", "dbod-dials.cern.ch:6600"])
        defer { try? FileManager.default.removeItem(atPath: out) }
        #expect(result.status == 0)
        let db = try String(contentsOfFile: out + "/db.yaml", encoding: .utf8)
        #expect(db.contains("type: ExternalName") && db.contains("externalName: dbod-dials.cern.ch\n"))
        let backend = try String(contentsOfFile: out + "/backend.yaml", encoding: .utf8)
        #expect(backend.contains("kind: Route"))
        #expect(backend.contains("DJANGO_DATABASE_PORT: '6600'"))
        // Everything but the Route (no schema in the validator) passes strictly.
        let validation = try runProcess(try validator(), ["--strict"] + (try files(out)))
        #expect(
            validation.stdout.components(separatedBy: "\n").filter { $0.hasPrefix("ERROR") }.isEmpty,
            "\(validation.stdout)")
    }
}
