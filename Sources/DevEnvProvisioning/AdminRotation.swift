import DevEnvModel
import DevEnvRuntime
import Foundation
import Postgres
import StateStore

/// Rotates a managed server's admin password, and changes nothing else. The new value is
/// stored before the server is changed (the old one kept beside it), so a crash between the two
/// never loses the password that works; a failed change puts the old one back.
public struct AdminRotation: Sendable {
    /// The state-store key of a server's admin password, in the server's scope.
    public static let key = "admin.password"
    public static let previousKey = "admin.previous_password"

    let target: PostgresTarget
    let store: StateStore

    public init(target: PostgresTarget, store: StateStore) {
        self.target = target
        self.store = store
    }

    /// The admin password kept for the server, if one was rotated here.
    public static func stored(for target: PostgresTarget, in store: StateStore) throws -> String? {
        try store.secrets(project: target.secretScope)[key]
    }

    /// Logs in with the kept password (else the URL's, PGPASSWORD, ~/.pgpass), stores a new one,
    /// sets it, and logs in with it. Blocking.
    public func rotate() throws -> (user: String, password: String) {
        let scope = target.secretScope
        var current = target
        let previous = try Self.stored(for: target, in: store)
        if let previous { current.admin["password"] = previous }
        let admin = try PostgresConnection(parameters: current.parameters(database: target.adminDatabase))
        defer { admin.close() }
        let user = admin.user
        let password = StateStore.generateSecret()
        let verifier = try admin.quoteLiteral(try admin.encryptPassword(password, user: user))
        if let old = previous ?? current.admin["password"] {
            try store.setSecret(project: scope, key: Self.previousKey, value: old)
        }
        try store.setSecret(project: scope, key: Self.key, value: password)
        do {
            try admin.executeScript("ALTER ROLE CURRENT_USER PASSWORD \(verifier)")
        } catch {
            // Not changed: the stored value goes back to the one that works.
            if let previous {
                try? store.setSecret(project: scope, key: Self.key, value: previous)
            } else {
                try? store.deleteSecret(project: scope, key: Self.key)
            }
            throw error
        }
        var rotated = target
        rotated.admin["password"] = password
        try PostgresConnection(parameters: rotated.parameters(database: target.adminDatabase)).close()
        return (user, password)
    }

    /// Writes `text` to a new file of mode 0600 (refusing an existing one).
    public static func writePrivately(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw DevEnvError("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        try handle.write(contentsOf: Data(text.utf8))
    }
}
