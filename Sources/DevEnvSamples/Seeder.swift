import Crypto
import DevEnvModel
import DevEnvProvisioning
import DevEnvRuntime
import Foundation
import Platform
import Postgres

/// What a seed did.
public struct SeedReport: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        case seeded(tables: Int, rows: Int)
        /// The ledger already records this very set: nothing was written.
        case alreadySeeded
        /// The ledger records another version of this set (it changed since it was loaded):
        /// nothing was written; `--force` replaces it.
        case otherVersion
    }
    public var set: String
    public var database: String
    public var outcome: Outcome
}

/// Loads a sample set into a database at COPY speed, all or nothing: one transaction, tables
/// in the manifest's (foreign-key) order with deferrable constraints deferred, each file's
/// SHA-256 checked as it streams, sequences moved past the loaded ids, then `ANALYZE`.
/// A ledger table records the set, so a re-seed of the same set is a no-op; a database whose
/// set tables hold rows, or that holds another set, is refused (nothing written) unless
/// `force`, which truncates those tables and loads again in the same transaction.
/// Needs no superuser. Blocking (libpq): run it off the cooperative pool.
public struct Seeder: Sendable {
    public static let ledgerTable = "devenv_seed_ledger"

    let set: SampleSet
    /// libpq keyword parameters of the loading role, with `dbname`.
    let parameters: [String: String]
    /// An admin that is not a superuser loads as the role that owns the set's tables (else the
    /// database's owner), borrowing membership in it for the run: a managed server's admin
    /// (CREATEROLE CREATEDB) has no rights on the application's tables of its own.
    let actAsOwner: Bool

    public init(set: SampleSet, parameters: [String: String], actAsOwner: Bool = false) {
        self.set = set
        self.parameters = parameters
        self.actAsOwner = actAsOwner
    }

    public func seed(force: Bool) throws -> SeedReport {
        let db = try PostgresConnection(parameters: parameters)
        defer { db.close() }
        let tables = try set.manifest.tables.map { table in
            (table, "\(try db.quoteIdentifier(table.schema)).\(try db.quoteIdentifier(table.name))")
        }
        guard actAsOwner, try db.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").scalar != "t"
        else { return try load(tables, force: force, as: nil, db: db) }
        let owners = try db.execute(
            "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class WHERE oid = ANY($1::regclass[])",
            [
                Self.regclassArray(
                    tables.map(\.1).filter { quoted in
                        (try? db.execute("SELECT to_regclass($1) IS NOT NULL", [quoted]).scalar) == "t"
                    })
            ]
        ).rows.compactMap { $0[0] }
        let databaseOwner = try db.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
        ).scalar
        guard let role = owners.count == 1 ? owners[0] : databaseOwner else {
            return try load(tables, force: force, as: nil, db: db)
        }
        let member = try db.execute("SELECT pg_has_role(current_user, $1, 'MEMBER')", [role]).scalar == "t"
        if !member { try db.execute("GRANT \(try db.quoteIdentifier(role)) TO CURRENT_USER") }
        defer { if !member { _ = try? db.execute("REVOKE \(try db.quoteIdentifier(role)) FROM CURRENT_USER") } }
        return try load(tables, force: force, as: role, db: db)
    }

    func load(
        _ tables: [(SampleManifest.Table, String)], force: Bool, as role: String?, db: PostgresConnection
    ) throws -> SeedReport {
        let database = db.database
        try db.executeScript("BEGIN")
        do {
            if let role { try db.execute("SET LOCAL ROLE \(try db.quoteIdentifier(role))") }
            // Every table first, by name: casting a missing one to regclass below would only
            // say "relation does not exist".
            for (table, quoted) in tables
            where try db.execute("SELECT to_regclass($1) IS NULL", [quoted]).scalar == "t" {
                throw DevEnvError(
                    "table \(table.schema).\(table.name) of sample set \(set.manifest.name) does not exist in \(database); nothing was written; run the app's migrations first (devenv provision --target URL --migrate on a server)"
                )
            }
            // Deferring queues one check per row until commit: do it only when some foreign key
            // points at a table loaded later (a cycle); otherwise the load order satisfies them.
            if try needsDeferredConstraints(tables.map(\.1), db: db) {
                try db.executeScript("SET CONSTRAINTS ALL DEFERRED")
            }
            try db.execute(
                """
                CREATE TABLE IF NOT EXISTS \(Self.ledgerTable) (
                    set_name text PRIMARY KEY, manifest_sha256 text NOT NULL,
                    seeded_at timestamptz NOT NULL DEFAULT now(), row_count bigint NOT NULL)
                """)
            let ledger = try db.execute("SELECT set_name, manifest_sha256 FROM \(Self.ledgerTable)").rows
            if ledger.contains(where: { $0[0] == set.manifest.name && $0[1] == set.manifestDigest }) && !force {
                try db.executeScript("ROLLBACK")
                return SeedReport(set: set.manifest.name, database: database, outcome: .alreadySeeded)
            }
            var occupied: [String] = []
            for (table, quoted) in tables where try db.execute("SELECT EXISTS (SELECT 1 FROM \(quoted))").scalar == "t"
            {
                occupied.append("\(table.schema).\(table.name)")
            }
            if !force {
                if ledger.contains(where: { $0[0] == set.manifest.name }) {
                    try db.executeScript("ROLLBACK")
                    return SeedReport(set: set.manifest.name, database: database, outcome: .otherVersion)
                }
                if let other = ledger.first {
                    throw DevEnvError(
                        "\(database) already holds sample set \(other[0] ?? "?"); nothing was written; pass --force to replace it"
                    )
                }
                if !occupied.isEmpty {
                    throw DevEnvError(
                        "\(database) already holds rows in \(occupied.joined(separator: ", ")); nothing was written; pass --force to replace them"
                    )
                }
            } else {
                if !tables.isEmpty { try db.execute("TRUNCATE \(tables.map(\.1).joined(separator: ", "))") }
                try db.execute("DELETE FROM \(Self.ledgerTable)")
            }

            // Foreign keys of tables this role owns are dropped and added back around the load,
            // inside the transaction: one validating join per key instead of a trigger per row.
            // Tables owned by someone else keep theirs (row by row, deferred where needed).
            let foreignKeys = try ownedForeignKeys(tables.map(\.1), db: db)
            for key in foreignKeys {
                try db.execute("ALTER TABLE \(key.table) DROP CONSTRAINT \(try db.quoteIdentifier(key.name))")
            }
            var rows = 0
            for (table, quoted) in tables {
                rows += try load(table, into: quoted, db: db)
            }
            for key in foreignKeys {
                try db.execute(
                    "ALTER TABLE \(key.table) ADD CONSTRAINT \(try db.quoteIdentifier(key.name)) \(key.definition)")
            }
            for (table, quoted) in tables { try resetSequences(table, quoted, db: db) }
            try db.execute(
                "INSERT INTO \(Self.ledgerTable) (set_name, manifest_sha256, row_count) VALUES ($1, $2, $3)",
                [set.manifest.name, set.manifestDigest, String(rows)])
            try db.executeScript("COMMIT")
            for (_, quoted) in tables { try db.executeScript("ANALYZE \(quoted)") }
            return SeedReport(
                set: set.manifest.name, database: database, outcome: .seeded(tables: tables.count, rows: rows))
        } catch {
            try? db.executeScript("ROLLBACK")
            throw error
        }
    }

    struct ForeignKey {
        /// The constrained table, as `regclass` text (quoted as needed).
        var table: String
        var name: String
        /// `pg_get_constraintdef`: `FOREIGN KEY (…) REFERENCES …` with its actions and deferrability.
        var definition: String
    }

    /// The foreign keys on the set's tables whose tables the loading role owns (it may drop
    /// and re-add them), in a stable order.
    func ownedForeignKeys(_ quotedTables: [String], db: PostgresConnection) throws -> [ForeignKey] {
        guard !quotedTables.isEmpty else { return [] }
        let rows = try db.execute(
            """
            SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
            FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
            WHERE c.contype = 'f' AND c.conrelid = ANY($1::regclass[])
              AND pg_has_role(current_user, t.relowner, 'USAGE')
            ORDER BY c.conrelid::regclass::text, c.conname
            """,
            [Self.regclassArray(quotedTables)]
        ).rows
        return rows.compactMap { row in
            guard let table = row[0], let name = row[1], let definition = row[2] else { return nil }
            return ForeignKey(table: table, name: name, definition: definition)
        }
    }

    /// A `regclass[]` literal of already-quoted table names.
    static func regclassArray(_ quotedTables: [String]) -> String {
        "{"
            + quotedTables.map {
                "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                    + "\""
            }.joined(separator: ",") + "}"
    }

    /// Whether a foreign key between the set's tables points from a table to one loaded after it.
    func needsDeferredConstraints(_ quotedTables: [String], db: PostgresConnection) throws -> Bool {
        guard quotedTables.count > 1 else { return false }
        let rows = try db.execute(
            """
            SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c
            WHERE c.contype = 'f' AND c.conrelid = ANY($1::regclass[]) AND c.confrelid = ANY($1::regclass[])
              AND c.conrelid <> c.confrelid
            """,
            [Self.regclassArray(quotedTables)]
        ).rows
        let order = try Dictionary(
            uniqueKeysWithValues: quotedTables.enumerated().map { index, table in
                (try db.execute("SELECT $1::regclass::text", [table]).scalar ?? table, index)
            })
        return rows.contains { row in
            guard let child = row[0].flatMap({ order[$0] }), let parent = row[1].flatMap({ order[$0] }) else {
                return false
            }
            return parent > child
        }
    }

    /// Streams one file into `COPY … FROM STDIN`, hashing it on the way; its SHA-256 and its row
    /// count are checked against the manifest before the transaction can commit. The file is
    /// opened without following links and must be a regular file inside the set: nothing from
    /// elsewhere (a link to ~/.pgpass) ever reaches the server, or its log.
    func load(_ table: SampleManifest.Table, into quoted: String, db: PostgresConnection) throws -> Int {
        let path = (set.directory as NSString).appendingPathComponent(table.file)
        let handle: FileHandle
        do {
            handle = try Files.openInside(set.directory, table.file)
        } catch let error as PlatformError {
            throw DevEnvError(
                "sample set \(set.manifest.name): \(error.message); nothing was written", exitCode: 1)
        }
        defer { try? handle.close() }
        let columns = try table.columns.map { try db.quoteIdentifier($0) }.joined(separator: ", ")
        let options = table.format == "csv" ? " WITH (FORMAT csv, HEADER true)" : ""
        var hasher = SHA256()
        let copied = try db.copyIn("COPY \(quoted) (\(columns)) FROM STDIN\(options)") { write in
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                hasher.update(data: chunk)
                try write(chunk)
            }
            let digest = hasher.finalize().hexadecimal
            if digest != table.sha256 {
                throw DevEnvError(
                    "\(path) does not match its manifest (sha256 \(digest), expected \(table.sha256)); nothing was written"
                )
            }
        }
        if copied != table.rows {
            throw DevEnvError(
                "\(path) holds \(copied) rows, its manifest says \(table.rows); nothing was written")
        }
        return copied
    }

    /// Moves each sequence owned by a column of the table past the largest loaded value.
    func resetSequences(_ table: SampleManifest.Table, _ quoted: String, db: PostgresConnection) throws {
        for column in table.columns {
            guard let sequence = try db.execute("SELECT pg_get_serial_sequence($1, $2)", [quoted, column]).scalar else {
                continue
            }
            try db.execute(
                "SELECT setval($1::regclass, COALESCE((SELECT max(\(try db.quoteIdentifier(column))) FROM \(quoted)), 0) + 1, false)",
                [sequence])
        }
    }
}

/// Snapshots as template databases: taking one clones the database, restoring clones it back
/// (a file-level copy inside the server, far cheaper than a reload). `reset` restores the
/// snapshot `seed` takes right after loading. Blocking (libpq): run off the cooperative pool.
public struct DatabaseSnapshots: Sendable {
    /// The name of the snapshot every seed leaves behind.
    public static let seededName = "seeded"

    public struct Snapshot: Sendable, Codable, Equatable {
        public var name: String
        public var database: String
        public var template: String
        public var sizeBytes: Int64
        public var created: String
        /// The size of its spare copy (made for the stack's own server), when there is one.
        public var spareSizeBytes: Int64?
    }

    let admin: PostgresTarget

    public init(admin: PostgresTarget) {
        self.admin = admin
    }

    /// The template database's name: a digest, so any database and snapshot name fits in 63 bytes.
    static func templateName(database: String, snapshot: String) -> String {
        let digest = SHA256.hash(data: Data("\(database)\u{0}\(snapshot)".utf8)).prefix(8).hexadecimal
        return "devenv_snap_\(digest)"
    }

    /// A ready-made copy of a snapshot that `restore` renames into place (tens of
    /// milliseconds) instead of cloning; `prepareSpare` makes the next one, in the background.
    static func spareName(database: String, snapshot: String) -> String {
        "devenv_spare_" + templateName(database: database, snapshot: snapshot).dropFirst("devenv_snap_".count)
    }

    /// The admin's connection: in the URL's database (a managed server may keep the admin out of
    /// `postgres`), except when that is the database being copied or replaced.
    func connect(avoiding database: String? = nil) throws -> PostgresConnection {
        let home = admin.adminDatabase == database ? "postgres" : admin.adminDatabase
        return try PostgresConnection(parameters: admin.parameters(database: home))
    }

    func exists(_ db: PostgresConnection, _ name: String) throws -> Bool {
        try !db.execute("SELECT 1 FROM pg_database WHERE datname = $1", [name]).rows.isEmpty
    }

    /// The database's owner; `nil` when there is no such database.
    func owner(_ db: PostgresConnection, of database: String) throws -> String? {
        try db.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", [database]).scalar
    }

    /// Makes the spare copy of snapshot `name` of `database` if it is missing (owned like the
    /// database). Returns whether it made one.
    @discardableResult
    public func prepareSpare(database: String, name: String) throws -> Bool {
        let db = try connect()
        defer { db.close() }
        let template = Self.templateName(database: database, snapshot: name)
        let spare = Self.spareName(database: database, snapshot: name)
        // Databases a restore renamed aside go first.
        for trash in try db.execute("SELECT datname FROM pg_database WHERE datname LIKE 'devenv\\_trash\\_%'").rows
            .compactMap({ $0[0] })
        {
            _ = try? db.execute("DROP DATABASE \(try db.quoteIdentifier(trash)) WITH (FORCE)")
        }
        guard try exists(db, template), try !exists(db, spare) else { return false }
        do {
            try clone(db, from: template, to: spare, owner: try owner(db, of: database))
        } catch let error as PostgresError where error.sqlState == "42P04" {
            return false  // another process made it meanwhile
        }
        // Not connectable until it is renamed into place: nobody uses it by mistake, and
        // `provision --target` does not count it as someone's data.
        try db.execute("ALTER DATABASE \(try db.quoteIdentifier(spare)) WITH ALLOW_CONNECTIONS false")
        return true
    }

    /// Runs `body` with the admin able to act for `owner`: a superuser or a member already can;
    /// otherwise (a CREATEROLE admin on a managed server) it borrows the membership and gives it
    /// back afterwards, also when `body` fails.
    func actingFor<T>(_ owner: String?, on db: PostgresConnection, _ body: () throws -> T) throws -> T {
        guard let owner,
            try db.execute("SELECT pg_has_role(current_user, $1, 'MEMBER')", [owner]).scalar == "f"
        else { return try body() }
        let role = try db.quoteIdentifier(owner)
        try db.execute("GRANT \(role) TO CURRENT_USER")
        defer { _ = try? db.execute("REVOKE \(role) FROM CURRENT_USER") }
        return try body()
    }

    /// Sessions other than ours on `database`, as `user@address (application)`: clients only.
    /// An autovacuum worker (likely right after a seed loaded rows) is not someone's session:
    /// it runs as no user, and `CREATE DATABASE … TEMPLATE` stops it by itself. (A non-superuser
    /// admin sees other roles' sessions with most columns null, their role included: kept.)
    func otherSessions(_ db: PostgresConnection, _ database: String) throws -> [String] {
        try db.execute(
            """
            SELECT usename, coalesce(client_addr::text, 'local'), application_name FROM pg_stat_activity
            WHERE datname = $1 AND pid <> pg_backend_pid() AND usesysid IS NOT NULL
              AND coalesce(backend_type, 'client backend') = 'client backend'
            """, [database]
        ).rows.map { "\($0[0] ?? "?")@\($0[1] ?? "?")" + (($0[2] ?? "").isEmpty ? "" : " (\($0[2]!))") }
    }

    func terminateSessions(_ db: PostgresConnection, _ database: String) throws {
        try db.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            [database])
    }

    /// `CREATE DATABASE … TEMPLATE`, choosing the copy strategy by size (PostgreSQL 15+).
    func clone(_ db: PostgresConnection, from source: String, to target: String, owner: String?) throws {
        var sql = "CREATE DATABASE \(try db.quoteIdentifier(target)) TEMPLATE \(try db.quoteIdentifier(source))"
        if let owner { sql += " OWNER \(try db.quoteIdentifier(owner))" }
        if db.serverVersion >= 150_000 {
            let size = Int64(try db.execute("SELECT pg_database_size($1)", [source]).scalar ?? "0") ?? 0
            // Small databases copy fastest through the WAL; large ones as files, without WAL.
            sql += size > 256 << 20 ? " STRATEGY = FILE_COPY" : " STRATEGY = WAL_LOG"
        }
        try db.execute(sql)
    }

    func drop(_ db: PostgresConnection, _ name: String) throws {
        let quoted = try db.quoteIdentifier(name)
        guard try exists(db, name) else { return }
        try db.execute("ALTER DATABASE \(quoted) WITH IS_TEMPLATE false")
        try db.execute("DROP DATABASE \(quoted) WITH (FORCE)")
    }

    /// Takes (or replaces) snapshot `name` of `database`. Copying needs the database to itself:
    /// other sessions on it are named and refused, or with `force` ended. The copy belongs to
    /// the admin and is not a template (no other role can clone it) and takes no connections.
    @discardableResult
    public func snapshot(database: String, name: String, force: Bool) throws -> Snapshot {
        let db = try connect(avoiding: database)
        defer { db.close() }
        guard try exists(db, database) else {
            throw DevEnvError("no database \(database) on the server")
        }
        let sessions = try otherSessions(db, database)
        if !sessions.isEmpty && !force {
            throw DevEnvError(
                "\(database) is in use by \(sessions.joined(separator: ", ")); a snapshot needs it to itself: stop those clients, or pass --force to disconnect them; nothing was changed"
            )
        }
        let template = Self.templateName(database: database, snapshot: name)
        try drop(db, Self.spareName(database: database, snapshot: name))
        try drop(db, template)
        if force { try terminateSessions(db, database) }
        // Cloning needs the source's owner (or a superuser); the copy stays the admin's.
        try actingFor(try owner(db, of: database), on: db) {
            try clone(db, from: database, to: template, owner: nil)
        }
        let created = ISO8601DateFormatter().string(from: Date())
        let comment =
            #"{"devenv_snapshot":\#(jsonString(name)),"database":\#(jsonString(database)),"created":"\#(created)"}"#
        try db.execute("COMMENT ON DATABASE \(try db.quoteIdentifier(template)) IS \(try db.quoteLiteral(comment))")
        try db.execute("ALTER DATABASE \(try db.quoteIdentifier(template)) WITH ALLOW_CONNECTIONS false")
        return try list(database: database).first { $0.name == name }
            ?? Snapshot(
                name: name, database: database, template: template, sizeBytes: 0, created: created,
                spareSizeBytes: nil)
    }

    /// Removes snapshot `name` of `database` and its spare copy; false when there was none.
    @discardableResult
    public func dropSnapshot(database: String, name: String) throws -> Bool {
        let db = try connect()
        defer { db.close() }
        let template = Self.templateName(database: database, snapshot: name)
        let spare = Self.spareName(database: database, snapshot: name)
        let found = try exists(db, template) || exists(db, spare)
        try drop(db, spare)
        try drop(db, template)
        return found
    }

    /// What a database carries outside its files, which a clone does not copy: its owner, ACL,
    /// connection limit, comment, and per-database settings (`pg_db_role_setting`).
    struct Attributes {
        var owner: String
        var acl: [(grantee: String?, privilege: String, grantable: Bool)]?
        var connectionLimit: Int
        var comment: String?
        /// (role or nil for every role, "name=value")
        var settings: [(role: String?, setting: String)]
    }

    func attributes(_ db: PostgresConnection, of database: String) throws -> Attributes? {
        guard
            let row = try db.execute(
                """
                SELECT pg_get_userbyid(datdba), datacl IS NULL, datconnlimit, shobj_description(oid, 'pg_database')
                FROM pg_database WHERE datname = $1
                """, [database]
            ).rows.first, let owner = row[0]
        else { return nil }
        var acl: [(String?, String, Bool)]?
        if row[1] == "f" {
            acl = try db.execute(
                """
                SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END, a.privilege_type, a.is_grantable
                FROM pg_database d CROSS JOIN LATERAL aclexplode(d.datacl) a WHERE d.datname = $1
                """, [database]
            ).rows.map { ($0[0], $0[1] ?? "", $0[2] == "t") }
        }
        let settings = try db.execute(
            """
            SELECT CASE WHEN s.setrole = 0 THEN NULL ELSE pg_get_userbyid(s.setrole) END, unnest(s.setconfig)
            FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = $1
            """, [database]
        ).rows.compactMap { row in row[1].map { (role: row[0], setting: $0) } }
        return Attributes(
            owner: owner, acl: acl, connectionLimit: Int(row[2] ?? "-1") ?? -1, comment: row[3], settings: settings)
    }

    /// Puts `attributes` back on a database that replaced the one they were read from.
    func apply(_ attributes: Attributes, to database: String, on db: PostgresConnection) throws {
        let quoted = try db.quoteIdentifier(database)
        try db.execute("ALTER DATABASE \(quoted) OWNER TO \(try db.quoteIdentifier(attributes.owner))")
        try db.execute("ALTER DATABASE \(quoted) WITH CONNECTION LIMIT \(attributes.connectionLimit)")
        if let acl = attributes.acl {
            try db.execute("REVOKE ALL ON DATABASE \(quoted) FROM PUBLIC, \(try db.quoteIdentifier(attributes.owner))")
            for item in acl {
                let grantee = try item.grantee.map { try db.quoteIdentifier($0) } ?? "PUBLIC"
                try db.execute(
                    "GRANT \(item.privilege) ON DATABASE \(quoted) TO \(grantee)"
                        + (item.grantable ? " WITH GRANT OPTION" : ""))
            }
        }
        try db.execute(
            "COMMENT ON DATABASE \(quoted) IS \(try attributes.comment.map { try db.quoteLiteral($0) } ?? "NULL")")
        for (role, setting) in attributes.settings {
            guard let equals = setting.firstIndex(of: "=") else { continue }
            let key = String(setting[..<equals])
            let raw = String(setting[setting.index(after: equals)...])
            // A list setting (search_path) is given back element by element, as pg_dump does.
            let elements = Self.listSettings.contains(key.lowercased()) ? Self.splitList(raw) : [raw]
            let value = try elements.map { try db.quoteLiteral($0) }.joined(separator: ", ")
            let target =
                try role.map { "ROLE \(try db.quoteIdentifier($0)) IN DATABASE \(quoted)" } ?? "DATABASE \(quoted)"
            try db.execute("ALTER \(target) SET \(try db.quoteIdentifier(key)) TO \(value)")
        }
    }

    /// Settings whose value is a list (PostgreSQL's GUC_LIST_QUOTE ones).
    static let listSettings: Set<String> = [
        "search_path", "temp_tablespaces", "session_preload_libraries", "shared_preload_libraries",
        "local_preload_libraries",
    ]

    /// `audit, "my schema", public` → [audit, "my schema", public]: commas outside double quotes.
    static func splitList(_ text: String) -> [String] {
        var items: [String] = []
        var current = ""
        var quoted = false
        for character in text {
            if character == "\"" { quoted.toggle() }
            if character == "," && !quoted {
                items.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
            } else {
                current.append(character)
            }
        }
        items.append(current.trimmingCharacters(in: .whitespaces))
        return items.filter { !$0.isEmpty }
    }

    /// Replaces `database` with snapshot `name`: the spare copy renamed into place when there is
    /// one, else a clone of the snapshot (then `prepareSpare` makes the next spare). Refuses
    /// while other clients use the database unless `force` (which disconnects them).
    /// With `deferDrop`, the replaced database is renamed aside (`devenv_trash_…`, not
    /// connectable) for `prepareSpare` to drop in the background, instead of dropped here.
    public func restore(database: String, name: String, force: Bool, deferDrop: Bool = false) throws {
        let db = try connect(avoiding: database)
        defer { db.close() }
        let template = Self.templateName(database: database, snapshot: name)
        guard try exists(db, template) else {
            let available = try list(database: database).map(\.name)
            throw DevEnvError(
                name == Self.seededName
                    ? "\(database) has no seeded state to reset to: run 'devenv seed' first"
                    : "\(database) has no snapshot '\(name)'"
                        + (available.isEmpty ? "" : " (it has: \(available.joined(separator: ", ")))"))
        }
        let sessions = try otherSessions(db, database)
        if !sessions.isEmpty && !force {
            throw DevEnvError(
                "\(database) is in use by \(sessions.joined(separator: ", ")); stop those clients or pass --force to disconnect them"
            )
        }
        let current = try attributes(db, of: database)
        let currentOwner = current?.owner
        try actingFor(currentOwner, on: db) {
            try replace(database, with: name, current: current, deferDrop: deferDrop, on: db)
        }
    }

    func replace(
        _ database: String, with name: String, current: Attributes?, deferDrop: Bool, on db: PostgresConnection
    )
        throws
    {
        let template = Self.templateName(database: database, snapshot: name)
        let currentOwner = current?.owner
        let spare = Self.spareName(database: database, snapshot: name)
        let quoted = try db.quoteIdentifier(database)
        let useSpare = try exists(db, spare)
        // The current database goes first: renamed aside for the background to drop (only when
        // a spare makes the restore itself instant), else dropped here.
        if currentOwner != nil {
            if useSpare && deferDrop {
                // No new sessions, the current ones ended, then out of the way.
                try db.execute("ALTER DATABASE \(quoted) WITH ALLOW_CONNECTIONS false")
                try terminateSessions(db, database)
                let trash = "devenv_trash_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
                try db.execute("ALTER DATABASE \(quoted) RENAME TO \(try db.quoteIdentifier(trash))")
            } else {
                try db.execute("DROP DATABASE \(quoted) WITH (FORCE)")
            }
        }
        if useSpare {
            try db.execute("ALTER DATABASE \(try db.quoteIdentifier(spare)) RENAME TO \(quoted)")
            try db.execute("ALTER DATABASE \(quoted) WITH ALLOW_CONNECTIONS true")
        } else {
            try db.execute("ALTER DATABASE \(try db.quoteIdentifier(template)) WITH ALLOW_CONNECTIONS true")
            defer {
                _ = try? db.execute("ALTER DATABASE \(try db.quoteIdentifier(template)) WITH ALLOW_CONNECTIONS false")
            }
            try clone(db, from: template, to: database, owner: currentOwner)
        }
        // The replaced database's owner, grants, connection limit, comment and settings.
        if let current { try apply(current, to: database, on: db) }
    }

    /// The snapshots on the server (of `database`, or all).
    public func list(database: String? = nil) throws -> [Snapshot] {
        let db = try connect()
        defer { db.close() }
        let rows = try db.execute(
            """
            SELECT datname, pg_database_size(oid), shobj_description(oid, 'pg_database') FROM pg_database
            WHERE datname LIKE 'devenv\\_snap\\_%' ORDER BY datname
            """
        ).rows
        let spares = try db.execute(
            "SELECT datname, pg_database_size(oid) FROM pg_database WHERE datname LIKE 'devenv\\_spare\\_%'"
        ).rows.reduce(into: [String: Int64]()) { found, row in
            if let name = row[0] { found[name] = Int64(row[1] ?? "0") ?? 0 }
        }
        return rows.compactMap { row in
            guard let comment = row[2], let data = comment.data(using: .utf8),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: String],
                let name = object["devenv_snapshot"], let source = object["database"]
            else { return nil }
            guard database == nil || source == database else { return nil }
            return Snapshot(
                name: name, database: source, template: row[0] ?? "", sizeBytes: Int64(row[1] ?? "0") ?? 0,
                created: object["created"] ?? "",
                spareSizeBytes: spares[Self.spareName(database: source, snapshot: name)])
        }.sorted { ($0.database, $0.name) < ($1.database, $1.name) }
    }

    private func jsonString(_ text: String) -> String {
        String(decoding: (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8), as: UTF8.self)
    }
}
