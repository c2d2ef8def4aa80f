import DevEnvModel
import DevEnvRuntime
import Foundation
import Postgres

/// One statement of a provisioning plan: the SQL to run, in which database, and the same
/// statement as it may be shown (passwords masked).
public struct ProvisionStep: Sendable, Equatable {
    /// The database to connect to for this statement.
    public var database: String
    public var sql: String
    /// `sql` with secrets replaced by `'***'`.
    public var display: String
    /// What the step does, in words, without secrets: `create role dials`.
    public var summary: String
    /// It gives back a membership the admin borrowed for the run: it runs even after a failure.
    public var givesBack: Bool = false

    /// `ALTER ROLE <role> PASSWORD …` with the SCRAM verifier computed here (`PQencryptPasswordConn`),
    /// shown with the password masked. `role` is a quoted identifier or `CURRENT_USER`.
    static func setPassword(
        _ password: String, of role: String, user: String, on db: PostgresConnection, summary: String
    ) throws -> ProvisionStep {
        let verifier = try db.quoteLiteral(try db.encryptPassword(password, user: user))
        return ProvisionStep(
            database: "postgres", sql: "ALTER ROLE \(role) PASSWORD \(verifier)",
            display: "ALTER ROLE \(role) PASSWORD '***'",
            summary: summary)
    }
}

/// Where and as whom to connect: the admin's connection parameters; roles' password checks
/// reuse the host, port and TLS settings.
public struct PostgresTarget: Sendable {
    /// libpq keyword parameters for the admin (`host`, `port`, `user`, `password`, `sslmode`…)
    /// without `dbname`.
    public var admin: [String: String]
    /// The database the URL names, if any: the admin connects there (managed servers may not
    /// let the admin into `postgres`), and `seed` loads there.
    public var database: String?

    public init(admin: [String: String], database: String? = nil) {
        self.admin = admin
        self.database = database
    }

    /// Where the admin connects: the URL's database, else `postgres`.
    public var adminDatabase: String { database ?? "postgres" }

    /// The state-store scope of this server's secrets (host, port, database).
    public var secretScope: String {
        SecretScope.target(
            host: admin["host"] ?? "localhost", port: admin["port"] ?? "5432", database: database ?? "postgres")
    }

    /// `postgresql://…` URL: user, password, host, port and options, as libpq reads them.
    public init(url: String) throws {
        guard var components = URLComponents(string: url), ["postgresql", "postgres"].contains(components.scheme ?? "")
        else {
            throw DevEnvError(
                "--target must be a postgresql:// URL, e.g. postgresql://admin@dbod-host:5500/postgres", exitCode: 2)
        }
        var parameters: [String: String] = [:]
        if let host = components.host, !host.isEmpty { parameters["host"] = host }
        if let port = components.port { parameters["port"] = String(port) }
        if let user = components.user, !user.isEmpty { parameters["user"] = user.removingPercentEncoding ?? user }
        if let password = components.password { parameters["password"] = password.removingPercentEncoding ?? password }
        for item in components.queryItems ?? [] { if let value = item.value { parameters[item.name] = value } }
        components.password = nil
        admin = parameters
        let path = (components.percentEncodedPath.removingPercentEncoding ?? components.path)
            .trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        database = path.isEmpty ? nil : path
    }

    package func parameters(database: String, user: String? = nil, password: String? = nil) -> [String: String] {
        var result = admin
        result["dbname"] = database
        if let user {
            result["user"] = user
            result["password"] = password
        }
        result["connect_timeout"] = result["connect_timeout"] ?? "10"
        return result
    }
}

/// Something on the server that differs from the file and that provisioning left alone: it
/// exists, it is not devenv's, and changing it was not asked for.
public struct ProvisionDrift: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case roleAttributes = "role_attributes"
        case rolePassword = "role_password"
        case roleMembership = "role_membership"
        case databaseOwner = "database_owner"
    }
    public var kind: Kind
    /// The role or database.
    public var object: String
    public var found: String
    public var declared: String
    /// In words, with what to do about it; never a secret.
    public var summary: String
}

/// What provisioning will do: the statements in order (temporary memberships the admin takes
/// for the run, and gives back even when a statement fails, included), and the drift it leaves.
public struct ProvisionPlan: Sendable {
    public var steps: [ProvisionStep]
    public var drift: [ProvisionDrift]
}

/// Roles' passwords for a provisioning run: `known` gives the one the file sets or the one
/// stored for this server, without making any; `password` also makes (and stores) a new one.
public struct RolePasswords: Sendable {
    public let known: @Sendable (String) throws -> String?
    public let password: @Sendable (String) throws -> String

    public init(
        known: @escaping @Sendable (String) throws -> String?, password: @escaping @Sendable (String) throws -> String
    ) {
        self.known = known
        self.password = password
    }
}

/// Whose server it is. devenv's own container: the file is the truth, everything is aligned.
/// A managed server (DBoD): what is missing is created; what exists is reported as drift and
/// left alone, except roles devenv created there (marked with a comment on the role) and the
/// roles named with `--adopt`.
public enum ProvisionPolicy: Sendable, Equatable {
    case ownServer
    case managedServer(adopt: Set<String>)
}

/// The comment on a role devenv created or adopted on a managed server: every laptop reading
/// the server knows which roles devenv manages.
public let managedRoleComment = "devenv: managed role"

/// Compares the server's catalog with `x-devenv.postgres` and plans only what is needed:
/// roles, their attributes, passwords and memberships, databases and owners, extensions,
/// schemas and grants. Every identifier is quoted with `PQescapeIdentifier`; every value is a
/// parameter or an escaped literal; passwords travel as SCRAM verifiers computed here and are
/// checked against the stored verifier here, never by logging in. Everything is checked before
/// anything changes: a missing privilege of the admin is refused up front.
/// Blocking (libpq): run it off the cooperative pool.
public final class PostgresProvisioner {
    let spec: PostgresSpec
    let target: PostgresTarget
    /// Roles' passwords: known ones, and new ones made only for roles devenv sets a password on.
    let passwords: RolePasswords
    let policy: ProvisionPolicy
    private var connections: [String: PostgresConnection] = [:]

    public init(
        spec: PostgresSpec, target: PostgresTarget, passwords: RolePasswords, policy: ProvisionPolicy = .ownServer
    ) {
        self.spec = spec
        self.target = target
        self.passwords = passwords
        self.policy = policy
    }

    func connection(_ database: String) throws -> PostgresConnection {
        if let open = connections[database] { return open }
        let connection = try PostgresConnection(parameters: target.parameters(database: database))
        connections[database] = connection
        return connection
    }

    /// The admin's own standing on the server.
    struct Admin {
        var user: String
        var superuser: Bool
        var createRole: Bool
        var createDatabase: Bool
    }

    func adminStanding() throws -> Admin {
        let admin = try connection(target.adminDatabase)
        let row = try admin.execute(
            "SELECT current_user, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user"
        ).rows.first
        return Admin(
            user: row?[0] ?? admin.user, superuser: row?[1] == "t", createRole: row?[2] == "t",
            createDatabase: row?[3] == "t")
    }

    var adopted: Set<String> {
        if case .managedServer(let adopt) = policy { return adopt }
        return []
    }

    var isOwnServer: Bool { policy == .ownServer }

    /// The statements needed, in order, and the drift left alone, without running anything.
    /// Throws, naming the privilege, when the admin cannot do what the plan needs.
    public func plan() throws -> ProvisionPlan {
        let admin = try connection(target.adminDatabase)
        let standing = try adminStanding()
        var steps: [ProvisionStep] = []
        var drift: [ProvisionDrift] = []
        var newRoles: Set<String> = []
        /// Privilege → what needs it, for the refusal.
        var needs: [String: [String]] = [:]
        func need(_ privilege: String, _ reason: String) { needs[privilege, default: []].append(reason) }
        func q(_ name: String) throws -> String { try admin.quoteIdentifier(name) }

        let declared = Set(spec.roles.map(\.name))
        for name in adopted where !declared.contains(name) {
            throw DevEnvError("--adopt \(name): the file declares no role \(name)", exitCode: 2)
        }
        for role in spec.roles {
            let row = try admin.execute(
                """
                SELECT rolcanlogin, rolcreatedb, rolconnlimit, shobj_description(oid, 'pg_authid'), rolsuper
                FROM pg_roles WHERE rolname = $1
                """, [role.name]
            ).rows.first
            let attributes = [
                role.login ? "LOGIN" : "NOLOGIN", role.createdb ? "CREATEDB" : "NOCREATEDB",
                "CONNECTION LIMIT \(role.connectionLimit ?? -1)",
            ].joined(separator: " ")
            guard let row else {
                let password = role.login ? try passwords.password(role.name) : nil
                newRoles.insert(role.name)
                need("CREATEROLE", "create role \(role.name)")
                var sql = "CREATE ROLE \(try q(role.name)) WITH \(attributes)"
                var display = sql
                if let password, role.login {
                    sql += " PASSWORD \(try admin.quoteLiteral(try admin.encryptPassword(password, user: role.name)))"
                    display += " PASSWORD '***'"
                }
                steps.append(
                    ProvisionStep(database: "postgres", sql: sql, display: display, summary: "create role \(role.name)")
                )
                if !isOwnServer { steps.append(try markStep(role.name, admin: admin)) }
                continue
            }
            let marked = row[3] == managedRoleComment
            let adopt = adopted.contains(role.name)
            let managed = isOwnServer || marked || adopt
            if row[4] == "t" && !standing.superuser && managed && !isOwnServer {
                throw DevEnvError(
                    "role \(role.name) is a superuser; the admin \(standing.user) is not and cannot change it; nothing was changed"
                )
            }
            let found = [
                row[0] == "t" ? "LOGIN" : "NOLOGIN", row[1] == "t" ? "CREATEDB" : "NOCREATEDB",
                "CONNECTION LIMIT \(row[2] ?? "-1")",
            ].joined(separator: " ")
            if found != attributes {
                if managed {
                    need("CREATEROLE", "alter role \(role.name)")
                    let sql = "ALTER ROLE \(try q(role.name)) WITH \(attributes)"
                    steps.append(
                        ProvisionStep(database: "postgres", sql: sql, display: sql, summary: "alter role \(role.name)"))
                } else {
                    drift.append(
                        ProvisionDrift(
                            kind: .roleAttributes, object: role.name, found: found, declared: attributes,
                            summary:
                                "role \(role.name) exists with \(found), the file says \(attributes): left alone (--adopt \(role.name) takes it over)"
                        ))
                }
            }
            // The password devenv wants here: for a role it sets passwords on, the known one or a
            // new one; for anyone else's role only a known one (given in the file, or stored for
            // this server), to report drift against.
            let password =
                !role.login
                ? nil : isOwnServer || adopt ? try passwords.password(role.name) : try passwords.known(role.name)
            if let password {
                let matches = try passwordMatches(role.name, password, standing: standing)
                if matches == false || (adopt && matches != true) {
                    if isOwnServer || adopt {
                        need("CREATEROLE", "set the password of role \(role.name)")
                        steps.append(
                            try .setPassword(
                                password, of: try q(role.name), user: role.name, on: admin,
                                summary: "set the password of role \(role.name)"))
                    } else {
                        drift.append(
                            ProvisionDrift(
                                kind: .rolePassword, object: role.name, found: "another password",
                                declared: "the password stored for this server on this machine",
                                summary:
                                    "role \(role.name) has another password than the one stored for this server here: left alone (--adopt \(role.name) sets it; 'devenv secrets show --target URL' shows the stored one)"
                            ))
                    }
                }
            }
            if adopt && !marked {
                need("CREATEROLE", "mark role \(role.name) as devenv's")
                steps.append(try markStep(role.name, admin: admin))
            }
        }
        // Memberships once every role exists.
        for role in spec.roles {
            let marked = try isMarked(role.name, admin: admin)
            let managed = isOwnServer || newRoles.contains(role.name) || adopted.contains(role.name) || marked
            for group in role.memberOf {
                let member =
                    newRoles.contains(role.name)
                    ? nil
                    : try admin.execute(
                        """
                        SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
                        WHERE g.rolname = $1 AND u.rolname = $2
                        """, [group, role.name]
                    ).rows.first
                guard member == nil else { continue }
                if managed {
                    need("CREATEROLE", "grant \(group) to \(role.name)")
                    let sql = "GRANT \(try q(group)) TO \(try q(role.name))"
                    steps.append(
                        ProvisionStep(
                            database: "postgres", sql: sql, display: sql, summary: "grant \(group) to \(role.name)"))
                } else {
                    drift.append(
                        ProvisionDrift(
                            kind: .roleMembership, object: role.name, found: "not a member of \(group)",
                            declared: "member of \(group)",
                            summary:
                                "role \(role.name) is not a member of \(group): left alone (--adopt \(role.name) takes it over)"
                        ))
                }
            }
        }

        let available = try admin.execute(
            "SELECT name, bool_or(superuser AND NOT trusted) FROM pg_available_extension_versions GROUP BY name"
        ).rows.reduce(into: [String: Bool]()) { found, row in
            if let name = row[0] { found[name] = row[1] == "t" }
        }
        var borrowed: [String] = []
        func borrow(_ owner: String, for reason: String) throws {
            guard !standing.superuser, !borrowed.contains(owner) else { return }
            if !newRoles.contains(owner),
                try admin.execute("SELECT pg_has_role(current_user, $1, 'MEMBER')", [owner]).scalar == "t"
            {
                return
            }
            need("CREATEROLE", "lend \(standing.user) membership in \(owner) to \(reason)")
            borrowed.append(owner)
            let sql = "GRANT \(try q(owner)) TO CURRENT_USER"
            steps.append(
                ProvisionStep(
                    database: "postgres", sql: sql, display: sql,
                    summary: "lend \(standing.user) membership in \(owner) for this run"))
        }
        for database in spec.databases {
            let owner = try admin.execute(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", [database.name]
            ).rows.first?[0]
            let isNew = owner == nil
            var databaseSteps: [ProvisionStep] = []
            if isNew {
                need("CREATEDB", "create database \(database.name)")
                var sql = "CREATE DATABASE \(try q(database.name))"
                if let owner = database.owner { sql += " OWNER \(try q(owner))" }
                if let encoding = database.encoding { sql += " ENCODING \(try admin.quoteLiteral(encoding))" }
                if let locale = database.locale { sql += " LOCALE \(try admin.quoteLiteral(locale))" }
                if database.encoding != nil || database.locale != nil { sql += " TEMPLATE template0" }
                databaseSteps.append(
                    ProvisionStep(
                        database: "postgres", sql: sql, display: sql,
                        summary: "create database \(database.name)" + (database.owner.map { " owned by \($0)" } ?? "")))
            } else if let wanted = database.owner, let owner, owner != wanted {
                if isOwnServer {
                    let sql = "ALTER DATABASE \(try q(database.name)) OWNER TO \(try q(wanted))"
                    databaseSteps.append(
                        ProvisionStep(
                            database: "postgres", sql: sql, display: sql,
                            summary: "make \(wanted) the owner of \(database.name)"))
                } else {
                    drift.append(
                        ProvisionDrift(
                            kind: .databaseOwner, object: database.name, found: "owned by \(owner)",
                            declared: "owned by \(wanted)",
                            summary:
                                "database \(database.name) exists, owned by \(owner), not \(wanted): left alone (change it with ALTER DATABASE … OWNER TO if that is right)"
                        ))
                }
            }
            for extensionName in database.extensions where available[extensionName] == nil {
                throw DevEnvError(
                    "extension \(extensionName) (database \(database.name)) is not available on this server",
                    exitCode: 2)
            }
            let objects = try objectSteps(database, isNew: isNew, newRoles: newRoles, available: available, quote: q)
            for name in database.extensions where available[name] == true {
                let creation = "create extension \(name) in \(database.name)"
                if objects.contains(where: { $0.summary == creation }) {
                    need("SUPERUSER", "\(creation), which is not a trusted extension")
                }
            }
            // On a managed server the admin acts for the database's owner (CREATE DATABASE …
            // OWNER, schemas, default privileges need membership on PostgreSQL 15): it borrows
            // the membership for the run and gives it back.
            let acting = database.owner ?? owner
            if let acting, !isOwnServer, !(databaseSteps.isEmpty && objects.isEmpty), acting != standing.user {
                try borrow(acting, for: "work on database \(database.name)")
            }
            steps += databaseSteps + objects
        }
        for owner in borrowed {
            let sql = "REVOKE \(try q(owner)) FROM CURRENT_USER"
            steps.append(
                ProvisionStep(
                    database: "postgres", sql: sql, display: sql,
                    summary: "give back \(standing.user)'s membership in \(owner)", givesBack: true))
        }

        if !standing.superuser {
            let missing = needs.keys.filter { privilege in
                switch privilege {
                case "CREATEROLE": !standing.createRole
                case "CREATEDB": !standing.createDatabase
                default: true
                }
            }.sorted()
            if !missing.isEmpty {
                let details = missing.map { "\($0) (to \(needs[$0]!.prefix(3).joined(separator: ", ")))" }
                throw DevEnvError(
                    "the admin \(standing.user) lacks \(details.joined(separator: " and ")); ask the DBA to grant it (ALTER ROLE \(standing.user) \(missing.filter { $0 != "SUPERUSER" }.joined(separator: " "))); nothing was changed"
                )
            }
        }
        return ProvisionPlan(steps: steps, drift: drift)
    }

    func markStep(_ role: String, admin: PostgresConnection) throws -> ProvisionStep {
        let sql = "COMMENT ON ROLE \(try admin.quoteIdentifier(role)) IS \(try admin.quoteLiteral(managedRoleComment))"
        return ProvisionStep(database: "postgres", sql: sql, display: sql, summary: "mark role \(role) as devenv's")
    }

    func isMarked(_ role: String, admin: PostgresConnection) throws -> Bool {
        try admin.execute(
            "SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = $1", [role]
        ).scalar == managedRoleComment
    }

    /// Whether `role`'s stored password is `password`: from the SCRAM verifier when the admin can
    /// read it (a superuser); on devenv's own server otherwise by logging in; on a managed
    /// server otherwise unknown (nil) — a failed login there would set off its alerting.
    func passwordMatches(_ role: String, _ password: String, standing: Admin) throws -> Bool? {
        if standing.superuser {
            let stored = try connection(target.adminDatabase).execute(
                "SELECT rolpassword FROM pg_authid WHERE rolname = $1", [role]
            ).scalar
            if let verifier = stored.flatMap(ScramVerifier.init), let matches = verifier.matches(password) {
                return matches
            }
            if stored == nil { return false }
        }
        return isOwnServer ? canLogIn(role, password) : nil
    }

    /// Extensions, schemas and grants inside one database.
    func objectSteps(
        _ database: PostgresSpec.Database, isNew: Bool, newRoles: Set<String>, available: [String: Bool],
        quote q: (String) throws -> String
    ) throws -> [ProvisionStep] {
        var steps: [ProvisionStep] = []
        let db = isNew ? nil : try connection(database.name)
        func exists(_ sql: String, _ parameters: [String?]) throws -> Bool {
            guard let db else { return false }
            return try db.execute(sql, parameters).rows.first?.first == "t"
        }
        func step(_ sql: String, _ summary: String) {
            steps.append(ProvisionStep(database: database.name, sql: sql, display: sql, summary: summary))
        }
        for extensionName in database.extensions {
            guard available[extensionName] != nil else {
                throw DevEnvError(
                    "extension \(extensionName) (database \(database.name)) is not available on this server",
                    exitCode: 2)
            }
            if try !exists("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = $1)", [extensionName]) {
                step(
                    "CREATE EXTENSION IF NOT EXISTS \(try q(extensionName))",
                    "create extension \(extensionName) in \(database.name)")
            }
        }
        for schema in database.schemas
        where try !exists("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", [schema]) {
            let owner = try database.owner.map { " AUTHORIZATION \(try q($0))" } ?? ""
            step("CREATE SCHEMA \(try q(schema))\(owner)", "create schema \(schema) in \(database.name)")
        }
        let schemas = ["public"] + database.schemas
        for grant in database.grants {
            var privileges = Set(grant.privileges.map { $0 == "temp" ? "temporary" : $0 })
            if privileges.contains("all") {
                privileges = [
                    "connect", "create", "temporary", "usage", "select", "insert", "update", "delete", "truncate",
                    "references", "trigger",
                ]
            }
            let fresh = isNew || newRoles.contains(grant.role)
            let role = try q(grant.role)
            for privilege in ["connect", "create", "temporary"] where privileges.contains(privilege) {
                if try fresh
                    || !exists(
                        "SELECT has_database_privilege($1, $2, $3)",
                        [grant.role, database.name, privilege.uppercased()])
                {
                    step(
                        "GRANT \(privilege.uppercased()) ON DATABASE \(try q(database.name)) TO \(role)",
                        "grant \(privilege) on database \(database.name) to \(grant.role)")
                }
            }
            let tablePrivileges = ["select", "insert", "update", "delete", "truncate", "references", "trigger"].filter(
                privileges.contains)
            // Table privileges are useless without USAGE on the schema, so they imply it.
            if privileges.contains("usage") || !tablePrivileges.isEmpty {
                for schema in schemas {
                    if try fresh || !exists("SELECT has_schema_privilege($1, $2, 'USAGE')", [grant.role, schema]) {
                        step(
                            "GRANT USAGE ON SCHEMA \(try q(schema)) TO \(role)",
                            "grant usage on schema \(schema) in \(database.name) to \(grant.role)")
                    }
                }
            }
            if privileges.contains("create") {
                for schema in schemas {
                    if try fresh || !exists("SELECT has_schema_privilege($1, $2, 'CREATE')", [grant.role, schema]) {
                        step(
                            "GRANT CREATE ON SCHEMA \(try q(schema)) TO \(role)",
                            "grant create on schema \(schema) in \(database.name) to \(grant.role)")
                    }
                }
            }
            guard !tablePrivileges.isEmpty else { continue }
            let list = tablePrivileges.map { $0.uppercased() }.joined(separator: ", ")
            for schema in schemas {
                let missing =
                    try fresh
                    || (exists(
                        """
                        SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
                        AND NOT has_table_privilege($2, c.oid, $3))
                        """, [schema, grant.role, list]))
                if missing {
                    step(
                        "GRANT \(list) ON ALL TABLES IN SCHEMA \(try q(schema)) TO \(role)",
                        "grant \(tablePrivileges.joined(separator: ", ")) on the tables of \(schema) in \(database.name) to \(grant.role)"
                    )
                }
                // Tables the owner creates later (migrations) get the same privileges.
                guard let owner = database.owner else { continue }
                let hasDefault =
                    try !fresh
                    && (exists(
                        """
                        SELECT EXISTS (SELECT 1 FROM pg_default_acl d CROSS JOIN LATERAL aclexplode(d.defaclacl) a
                        WHERE d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = $1)
                        AND d.defaclnamespace = (SELECT oid FROM pg_namespace WHERE nspname = $2)
                        AND d.defaclobjtype = 'r' AND a.grantee = (SELECT oid FROM pg_roles WHERE rolname = $3)
                        GROUP BY d.oid HAVING count(DISTINCT a.privilege_type) >= $4)
                        """, [owner, schema, grant.role, String(tablePrivileges.count)]))
                if !hasDefault && owner != grant.role {
                    step(
                        "ALTER DEFAULT PRIVILEGES FOR ROLE \(try q(owner)) IN SCHEMA \(try q(schema)) GRANT \(list) ON TABLES TO \(role)",
                        "grant \(tablePrivileges.joined(separator: ", ")) on future tables of \(owner) in \(schema) of \(database.name) to \(grant.role)"
                    )
                }
            }
        }
        return steps
    }

    /// Whether `role` can log in with `password` (the check needs no superuser).
    func canLogIn(_ role: String, _ password: String) -> Bool {
        (try? PostgresConnection(parameters: target.parameters(database: "postgres", user: role, password: password)))
            != nil
    }

    /// Runs the steps in order, each on its own (CREATE DATABASE cannot run in a transaction).
    /// When one fails, the steps that give back a borrowed membership still run.
    public func apply(_ plan: ProvisionPlan) throws {
        for (index, step) in plan.steps.enumerated() {
            do {
                try connection(step.database).executeScript(step.sql)
            } catch let error as PostgresError {
                for cleanup in plan.steps[(index + 1)...] where cleanup.givesBack {
                    _ = try? connection(cleanup.database).executeScript(cleanup.sql)
                }
                throw PostgresError(
                    error.code, "provisioning failed at '\(step.display)': \(error.message)", sqlState: error.sqlState,
                    detail: error.detail, hint: error.hint)
            }
        }
    }

    /// Application databases on the server that the spec does not declare and that hold tables
    /// (or cannot be inspected): a sign the server is somebody's source of truth.
    public func undeclaredNonEmptyDatabases() throws -> [String] {
        let admin = try connection(target.adminDatabase)
        let declared = Set(spec.databases.map(\.name))
        // A database the admin may not connect to counts as holding data, without trying (a
        // refused connection is a FATAL line in the server's log).
        let rows = try admin.execute(
            """
            SELECT datname, has_database_privilege(datname, 'CONNECT') FROM pg_database
            WHERE NOT datistemplate AND datallowconn AND datname <> 'postgres' ORDER BY datname
            """
        ).rows
        return rows.compactMap { row -> String? in
            guard let name = row[0], !declared.contains(name), name != target.adminDatabase else { return nil }
            guard row[1] == "t", let db = try? connection(name) else { return name }
            let hasTables = try? db.execute(
                """
                SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                AND n.nspname NOT LIKE 'pg_toast%')
                """
            ).scalar
            return hasTables != "f" ? name : nil
        }
    }

    public func close() {
        for connection in connections.values { connection.close() }
        connections = [:]
    }
}
