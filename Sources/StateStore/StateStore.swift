import Foundation
import Synchronization

/// devenv's own state: generated secrets, provisioning records and build inputs, in one SQLite file
/// (`$XDG_STATE_HOME/devenv/state.db`), mode 0600 in a 0700 directory. WAL and a busy
/// timeout let two `devenv` processes use it at once.
public final class StateStore: Sendable {
    public let path: String
    private let database: Mutex<SQLiteDatabase>

    /// Schema migrations, in order; `PRAGMA user_version` records how many have run.
    /// Append only: a shipped migration never changes.
    static let migrations: [String] = [
        // 1: projects and their generated secrets
        """
        CREATE TABLE projects (
            name TEXT PRIMARY KEY,
            working_dir TEXT NOT NULL,
            files TEXT NOT NULL DEFAULT '[]',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE TABLE secrets (
            project TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (project, key)
        );
        """,
        // 2: ephemeral projects carry an expiry
        "ALTER TABLE projects ADD COLUMN expires_at REAL;",
        // 3: what was provisioned into which container, so an unchanged re-up skips it
        """
        CREATE TABLE provision_marks (
            project TEXT NOT NULL,
            service TEXT NOT NULL,
            container_id TEXT NOT NULL,
            spec_digest TEXT NOT NULL,
            at REAL NOT NULL,
            PRIMARY KEY (project, service)
        );
        """,
        // 4: what each built image was built from, so `plan` can name the files that changed
        """
        CREATE TABLE build_inputs (
            digest TEXT PRIMARY KEY,
            inputs TEXT NOT NULL,
            at REAL NOT NULL
        );
        """,
        // 5: projects were written on every up and never read: gone
        "DROP TABLE projects;",
    ]

    public static var schemaVersion: Int { migrations.count }

    /// `$XDG_STATE_HOME/devenv/state.db`, else `~/.local/state/devenv/state.db`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let base: String
        if let xdg = environment["XDG_STATE_HOME"], xdg.hasPrefix("/") {
            base = xdg
        } else {
            let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
            base = home + "/.local/state"
        }
        return base + "/devenv/state.db"
    }

    /// Opens the store, creating its directory (0700) and file (0600) and running migrations.
    public init(path: String) throws {
        self.path = path
        try Self.prepareFile(at: path)
        let database = try SQLiteDatabase(path: path)
        try database.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
        try Self.migrate(database)
        self.database = Mutex(database)
    }

    public convenience init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        try self.init(path: Self.defaultPath(environment: environment))
    }

    /// Opens the store read-only, after `refusal` kept it from opening for writing: reads work,
    /// and a write fails with `refusal`. Without a file there is nothing recorded: an empty
    /// store in memory.
    init(readingFrom path: String, because refusal: StateStoreError) throws {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else {
            let empty = try SQLiteDatabase(path: ":memory:")
            try Self.migrate(empty)
            empty.writeRefusal = refusal
            database = Mutex(empty)
            return
        }
        // Sharing the WAL needs its -shm file; on a full or read-only filesystem that may not
        // be possible, and the last writer to close checkpointed the WAL into the file anyway.
        var opened: SQLiteDatabase
        do {
            opened = try SQLiteDatabase(path: path, access: .readOnly)
            try Self.checkReadable(opened)
        } catch {
            opened = try SQLiteDatabase(path: path, access: .immutable)
            try Self.checkReadable(opened)
        }
        opened.writeRefusal = refusal
        database = Mutex(opened)
    }

    /// For commands that only read state (`env`, `down`, `secrets show`, `psql`): the store
    /// as usual, or, when the filesystem under it refuses writes (full, read-only), the same
    /// file read-only. What they read works; a write they would make fails naming the file,
    /// the cause and the next step.
    public static func forReading(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws
        -> StateStore
    {
        let path = defaultPath(environment: environment)
        do {
            return try StateStore(path: path)
        } catch let error as StateStoreError where SQLiteDatabase.isStorageFailure(error) {
            return try StateStore(readingFrom: path, because: error)
        }
    }

    /// For commands that must not write at all (`plan`): the file read-only, or an empty store
    /// in memory when there is none yet. Nothing is created, migrated or written.
    public static func readOnly(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws
        -> StateStore
    {
        let path = defaultPath(environment: environment)
        return try StateStore(
            readingFrom: path,
            because: StateStoreError(
                .permissions, "state store \(path) was opened read-only by a command that only reads"))
    }

    /// Refuses a file written by a newer devenv; reads the schema to see that it can be read.
    static func checkReadable(_ database: SQLiteDatabase) throws {
        let current = Int(try database.query("PRAGMA user_version").first?.first?.integer ?? 0)
        guard current <= migrations.count else {
            throw StateStoreError(
                .migration,
                "state store \(database.path) has schema \(current), newer than this devenv knows (\(migrations.count)): upgrade devenv"
            )
        }
    }

    /// Whether writes fail (it was opened read-only, see `forReading`).
    public var isReadOnly: Bool { database.withLock { $0.writeRefusal != nil } }

    private static func prepareFile(at path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let manager = FileManager.default
        do {
            try manager.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw StateStoreError(
                .permissions,
                "cannot create state directory \(directory): \(error.localizedDescription); \(storageNextStep)")
        }
        // Created here with 0600, not by SQLite under the process umask.
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw StateStoreError(
                .permissions,
                "cannot create state store \(path): \(String(cString: strerror(errno))); \(storageNextStep)")
        }
        fchmod(fd, 0o600)
        close(fd)
    }

    static let storageNextStep =
        "make room or make it writable there, or point XDG_STATE_HOME at another directory"

    static func migrate(_ database: SQLiteDatabase) throws {
        // Read and upgrade under the write lock, so two processes never run one migration twice.
        try database.transaction {
            let current = Int(try database.query("PRAGMA user_version").first?.first?.integer ?? 0)
            guard current <= migrations.count else {
                throw StateStoreError(
                    .migration,
                    "state store \(database.path) has schema \(current), newer than this devenv knows (\(migrations.count)): upgrade devenv"
                )
            }
            for version in current..<migrations.count {
                do {
                    try database.execute(migrations[version])
                } catch {
                    throw StateStoreError(.migration, "state store migration \(version + 1) failed: \(error)")
                }
            }
            try database.execute("PRAGMA user_version = \(migrations.count)")
        }
    }

    /// The schema version recorded in the file.
    public func recordedSchemaVersion() throws -> Int {
        try database.withLock { Int(try $0.query("PRAGMA user_version").first?.first?.integer ?? 0) }
    }

    // MARK: projects

    /// Forgets a project's secrets and provisioning records (`down --volumes`).
    public func deleteProject(named name: String) throws {
        try database.withLock { db in
            try db.transaction {
                try db.query("DELETE FROM secrets WHERE project = ?", [.text(name)])
                try db.query("DELETE FROM provision_marks WHERE project = ?", [.text(name)])
            }
        }
    }

    // MARK: provisioning marks

    /// Whether `service`'s provisioning with `specDigest` was done into `containerID`.
    public func isProvisioned(project: String, service: String, containerID: String, specDigest: String) throws -> Bool
    {
        try database.withLock {
            try $0.query(
                "SELECT 1 FROM provision_marks WHERE project = ? AND service = ? AND container_id = ? AND spec_digest = ?",
                [.text(project), .text(service), .text(containerID), .text(specDigest)]
            ).isEmpty == false
        }
    }

    public func markProvisioned(project: String, service: String, containerID: String, specDigest: String) throws {
        _ = try database.withLock {
            try $0.query(
                """
                INSERT INTO provision_marks (project, service, container_id, spec_digest, at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(project, service) DO UPDATE SET container_id = excluded.container_id,
                    spec_digest = excluded.spec_digest, at = excluded.at
                """,
                [
                    .text(project), .text(service), .text(containerID), .text(specDigest),
                    .real(Date().timeIntervalSince1970),
                ])
        }
    }

    // MARK: build inputs

    /// How many builds' inputs are kept (the newest).
    static let keptBuildInputs = 200

    /// Records what the image with build digest `digest` was built from.
    public func saveBuildInputs(digest: String, inputs: [String]) throws {
        let text = String(decoding: try JSONEncoder().encode(inputs), as: UTF8.self)
        try database.withLock { db in
            try db.transaction {
                try db.query(
                    "INSERT OR REPLACE INTO build_inputs (digest, inputs, at) VALUES (?, ?, ?)",
                    [.text(digest), .text(text), .real(Date().timeIntervalSince1970)])
                try db.query(
                    "DELETE FROM build_inputs WHERE digest NOT IN (SELECT digest FROM build_inputs ORDER BY at DESC LIMIT ?)",
                    [.integer(Int64(Self.keptBuildInputs))])
            }
        }
    }

    /// What the image with build digest `digest` was built from, if recorded.
    public func buildInputs(digest: String) throws -> [String]? {
        let rows = try database.withLock {
            try $0.query("SELECT inputs FROM build_inputs WHERE digest = ?", [.text(digest)])
        }
        guard let text = rows.first?.first?.text else { return nil }
        return try? JSONDecoder().decode([String].self, from: Data(text.utf8))
    }

    // MARK: secrets

    /// The project's secret `key`; created with `generate` on first use, atomically, so two
    /// processes asking at once get the same value.
    public func secret(project: String, key: String, generate: () -> String) throws -> String {
        // Made before the lock (it may go unused) so the locked region holds only the database.
        let candidate = generate()
        return try database.withLock { db in
            // Read first without the write lock: a secret made earlier is read from a store
            // that cannot be written (see `forReading`).
            if let existing = try db.query(
                "SELECT value FROM secrets WHERE project = ? AND key = ?", [.text(project), .text(key)]
            ).first?.first?.text {
                return existing
            }
            return try db.transaction {
                if let existing = try db.query(
                    "SELECT value FROM secrets WHERE project = ? AND key = ?", [.text(project), .text(key)]
                ).first?.first?.text {
                    return existing
                }
                try db.query(
                    "INSERT INTO secrets (project, key, value, created_at) VALUES (?, ?, ?, ?)",
                    [.text(project), .text(key), .text(candidate), .real(Date().timeIntervalSince1970)])
                return candidate
            }
        }
    }

    /// Sets (or replaces) a secret given in the stack file.
    public func setSecret(project: String, key: String, value: String) throws {
        _ = try database.withLock { db in
            try db.query(
                """
                INSERT INTO secrets (project, key, value, created_at) VALUES (?, ?, ?, ?)
                ON CONFLICT(project, key) DO UPDATE SET value = excluded.value
                """, [.text(project), .text(key), .text(value), .real(Date().timeIntervalSince1970)])
        }
    }

    /// Forgets one secret.
    public func deleteSecret(project: String, key: String) throws {
        _ = try database.withLock {
            try $0.query("DELETE FROM secrets WHERE project = ? AND key = ?", [.text(project), .text(key)])
        }
    }

    /// Every secret of a project, key → value.
    public func secrets(project: String) throws -> [String: String] {
        let rows = try database.withLock {
            try $0.query("SELECT key, value FROM secrets WHERE project = ? ORDER BY key", [.text(project)])
        }
        return Dictionary(uniqueKeysWithValues: rows.map { ($0[0].text ?? "", $0[1].text ?? "") })
    }

    /// A strong URL-safe random secret: 32 characters from a 64-symbol alphabet (192 bits).
    public static func generateSecret(length: Int = 32) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet[Int(generator.next(upperBound: UInt(alphabet.count)))] })
    }
}
