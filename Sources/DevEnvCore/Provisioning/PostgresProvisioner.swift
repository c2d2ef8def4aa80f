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

    public init(admin: [String: String]) {
        self.admin = admin
    }

    /// `postgresql://…` URL: user, password, host, port and options, as libpq reads them.
    public init(url: String) throws {
        guard var components = URLComponents(string: url), ["postgresql", "postgres"].contains(components.scheme ?? "")
        else {
            throw OrchestratorError(
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
    }

    func parameters(database: String, user: String? = nil, password: String? = nil) -> [String: String] {
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

/// Compares the server's catalog with `x-devenv.postgres` and issues only what is missing:
/// roles, their attributes, passwords and memberships, databases and owners, extensions,
/// schemas and grants. Every identifier is quoted with `PQescapeIdentifier`; every value is a
/// parameter or an escaped literal; passwords travel as SCRAM verifiers computed here.
/// Blocking (libpq): run it off the cooperative pool.
public final class PostgresProvisioner {
    let spec: PostgresSpec
    let target: PostgresTarget
    /// Each role's password (generated or given), by role name.
    let passwords: [String: String]
    private var connections: [String: PostgresConnection] = [:]

    public init(spec: PostgresSpec, target: PostgresTarget, passwords: [String: String]) {
        self.spec = spec
        self.target = target
        self.passwords = passwords
    }

    func connection(_ database: String) throws -> PostgresConnection {
        if let open = connections[database] { return open }
        let connection = try PostgresConnection(parameters: target.parameters(database: database))
        connections[database] = connection
        return connection
    }

    /// The statements needed, in order, without running any.
    public func plan() throws -> [ProvisionStep] {
        let admin = try connection("postgres")
        var steps: [ProvisionStep] = []
        var newRoles: Set<String> = []
        func q(_ name: String) throws -> String { try admin.quoteIdentifier(name) }

        for role in spec.roles {
            let row = try admin.execute(
                "SELECT rolcanlogin, rolcreatedb, rolconnlimit FROM pg_roles WHERE rolname = $1", [role.name]
            ).rows.first
            let attributes = [
                role.login ? "LOGIN" : "NOLOGIN", role.createdb ? "CREATEDB" : "NOCREATEDB",
                "CONNECTION LIMIT \(role.connectionLimit ?? -1)",
            ].joined(separator: " ")
            let password = passwords[role.name]
            if row == nil {
                newRoles.insert(role.name)
                var sql = "CREATE ROLE \(try q(role.name)) WITH \(attributes)"
                var display = sql
                if let password, role.login {
                    sql += " PASSWORD \(try admin.quoteLiteral(try admin.encryptPassword(password, user: role.name)))"
                    display += " PASSWORD '***'"
                }
                steps.append(
                    ProvisionStep(database: "postgres", sql: sql, display: display, summary: "create role \(role.name)")
                )
            } else if let row {
                let login = row[0] == "t"
                let createdb = row[1] == "t"
                let limit = Int(row[2] ?? "-1") ?? -1
                if login != role.login || createdb != role.createdb || limit != (role.connectionLimit ?? -1) {
                    let sql = "ALTER ROLE \(try q(role.name)) WITH \(attributes)"
                    steps.append(
                        ProvisionStep(database: "postgres", sql: sql, display: sql, summary: "alter role \(role.name)"))
                }
                if let password, role.login, !canLogIn(role.name, password) {
                    steps.append(
                        try .setPassword(
                            password, of: try q(role.name), user: role.name, on: admin,
                            summary: "set the password of role \(role.name)"))
                }
            }
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
                if member == nil {
                    let sql = "GRANT \(try q(group)) TO \(try q(role.name))"
                    steps.append(
                        ProvisionStep(
                            database: "postgres", sql: sql, display: sql, summary: "grant \(group) to \(role.name)"))
                }
            }
        }

        let available = Set(try admin.execute("SELECT name FROM pg_available_extensions").rows.compactMap { $0[0] })
        for database in spec.databases {
            let owner = try admin.execute(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", [database.name]
            ).rows.first
            let isNew = owner == nil
            if isNew {
                var sql = "CREATE DATABASE \(try q(database.name))"
                if let owner = database.owner { sql += " OWNER \(try q(owner))" }
                if let encoding = database.encoding { sql += " ENCODING \(try admin.quoteLiteral(encoding))" }
                if let locale = database.locale { sql += " LOCALE \(try admin.quoteLiteral(locale))" }
                if database.encoding != nil || database.locale != nil { sql += " TEMPLATE template0" }
                steps.append(
                    ProvisionStep(
                        database: "postgres", sql: sql, display: sql,
                        summary: "create database \(database.name)" + (database.owner.map { " owned by \($0)" } ?? "")))
            } else if let wanted = database.owner, owner?[0] != wanted {
                let sql = "ALTER DATABASE \(try q(database.name)) OWNER TO \(try q(wanted))"
                steps.append(
                    ProvisionStep(
                        database: "postgres", sql: sql, display: sql,
                        summary: "make \(wanted) the owner of \(database.name)"))
            }
            steps += try objectSteps(database, isNew: isNew, newRoles: newRoles, available: available, quote: q)
        }
        return steps
    }

    /// Extensions, schemas and grants inside one database.
    func objectSteps(
        _ database: PostgresSpec.Database, isNew: Bool, newRoles: Set<String>, available: Set<String>,
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
            guard available.contains(extensionName) else {
                throw OrchestratorError(
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
    public func apply(_ steps: [ProvisionStep]) throws {
        for step in steps {
            do {
                try connection(step.database).executeScript(step.sql)
            } catch let error as PostgresError {
                throw PostgresError(
                    error.code, "provisioning failed at '\(step.display)': \(error.message)", sqlState: error.sqlState,
                    detail: error.detail, hint: error.hint)
            }
        }
    }

    /// Application databases on the server that the spec does not declare and that hold tables
    /// (or cannot be inspected): a sign the server is somebody's source of truth.
    public func undeclaredNonEmptyDatabases() throws -> [String] {
        let admin = try connection("postgres")
        let declared = Set(spec.databases.map(\.name))
        let names = try admin.execute(
            "SELECT datname FROM pg_database WHERE NOT datistemplate AND datallowconn AND datname <> 'postgres' ORDER BY datname"
        ).rows.compactMap { $0[0] }
        return names.filter { name in
            guard !declared.contains(name) else { return false }
            guard let db = try? connection(name) else { return true }
            let hasTables = try? db.execute(
                """
                SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                AND n.nspname NOT LIKE 'pg_toast%')
                """
            ).scalar
            return hasTables != "f"
        }
    }

    public func close() {
        for connection in connections.values { connection.close() }
        connections = [:]
    }
}
