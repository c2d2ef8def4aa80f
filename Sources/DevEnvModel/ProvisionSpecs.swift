import Foundation

/// `x-devenv.postgres`: the roles, databases and admin account a PostgreSQL service (or a
/// managed server, with `devenv provision --target`) must have.
public struct PostgresSpec: Sendable, Codable, Equatable {
    public struct Admin: Sendable, Codable, Equatable {
        /// The superuser/admin account (`POSTGRES_USER` in a container; the URL's user on DBoD).
        public var user: String?
        /// `nil` or `generated`: a generated password; anything else is used as given.
        public var password: String?
        /// DBoD: change the admin's initial password to `password` on first provision.
        public var changePassword: Bool

        enum CodingKeys: String, CodingKey {
            case user, password
            case changePassword = "change_password"
        }
    }

    public struct Role: Sendable, Codable, Equatable {
        public var name: String
        /// `nil` or `generated`: generated; anything else is used as given.
        public var password: String?
        public var login: Bool
        public var createdb: Bool
        public var memberOf: [String]
        public var connectionLimit: Int?

        enum CodingKeys: String, CodingKey {
            case name, password, login, createdb
            case memberOf = "member_of"
            case connectionLimit = "connection_limit"
        }
    }

    public struct Grant: Sendable, Codable, Equatable {
        public var role: String
        public var privileges: [String]
    }

    public struct Database: Sendable, Codable, Equatable {
        public var name: String
        public var owner: String?
        public var encoding: String?
        public var locale: String?
        public var extensions: [String]
        public var schemas: [String]
        public var grants: [Grant]
    }

    public var admin: Admin?
    public var roles: [Role]
    public var databases: [Database]

    /// Privilege names a grant may use.
    public static let privileges: Set<String> = [
        "connect", "temporary", "temp", "create", "usage", "select", "insert", "update", "delete", "truncate",
        "references", "trigger", "all",
    ]
}

/// `x-devenv.redis`: the password (applied through a config on stdin, never the command line)
/// and named logical databases.
public struct RedisSpec: Sendable, Codable, Equatable {
    /// `nil`: no password; `generated` or a given value.
    public var password: String?
    /// Name → logical database number (`{cache: 0, broker: 1}`).
    public var databases: [String: Int]
}

/// `x-devenv.django` on an app service.
public struct DjangoSpec: Sendable, Codable, Equatable {
    public struct Superuser: Sendable, Codable, Equatable {
        public var username: String
        public var email: String
        /// `nil` or `generated`: generated.
        public var password: String?
    }
    public struct Site: Sendable, Codable, Equatable {
        public var id: Int
        public var domain: String
        public var name: String?
    }
    public var superuser: Superuser?
    public var migrate: Bool
    /// `migrate: [default, csc, …]`: the database aliases to migrate, each with
    /// `migrate --database ALIAS` (an app with one database per workspace); empty: the default.
    public var migrateDatabases: [String] = []
    public var site: Site?
    /// How to run manage.py (default: `python3` or `python`, then `manage.py`).
    public var manage: [String]?
}

extension StackParser {
    /// A password given in the file: a string without control characters. Each goes into a
    /// configuration language on its way (Redis's configuration, SQL, a shell heredoc), where a
    /// newline would start a statement of its own.
    mutating func secret(_ node: YAMLNode, _ what: String) -> String? {
        guard let value = string(node, what) else { return nil }
        if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            error(
                "\(what) must not contain control characters (newlines, tabs, NUL): each would reach a configuration line of its own",
                node)
            return nil
        }
        return value
    }

    /// Parses the typed parts of `x-devenv`; problems are reported where they are written.
    mutating func provisionSpecs(
        _ node: YAMLNode, _ what: String, service: String
    ) -> (PostgresSpec?, RedisSpec?, DjangoSpec?) {
        var postgres: PostgresSpec?
        var redis: RedisSpec?
        var django: DjangoSpec?
        if let value = node["postgres"] { postgres = postgresSpec(value, "\(what).postgres") }
        if let value = node["redis"] { redis = redisSpec(value, "\(what).redis") }
        if let value = node["django"] { django = djangoSpec(value, "\(what).django") }
        return (postgres, redis, django)
    }

    /// A PostgreSQL identifier as given: non-empty, at most 63 bytes, no NUL. Anything else
    /// (quotes, semicolons, spaces, unicode) is allowed and will be quoted, never interpreted.
    mutating func identifier(_ node: YAMLNode, _ what: String) -> String? {
        guard let text = string(node, what) else { return nil }
        if text.isEmpty || text.utf8.count > 63 || text.utf8.contains(0) {
            error("\(what) must be 1 to 63 bytes with no NUL character, found '\(text)'", node)
            return nil
        }
        return text
    }

    /// A role devenv creates: an identifier that is not one of PostgreSQL's reserved role names
    /// (`public`, the `pg_` prefix, `none`, the `current_user`-style keywords), which CREATE ROLE
    /// refuses — better said here than at provisioning.
    mutating func roleName(_ node: YAMLNode, _ what: String) -> String? {
        guard let name = identifier(node, what) else { return nil }
        let lower = name.lowercased()
        if lower.hasPrefix("pg_") || ["public", "none", "current_user", "session_user", "current_role"].contains(lower)
        {
            error(
                "\(what) '\(name)' is reserved by PostgreSQL (public, none, pg_*, current_user…); choose another name",
                node)
            return nil
        }
        return name
    }

    /// The superuser the image's initdb creates: a role name initdb can also quote (it writes
    /// the name between double quotes without doubling one inside, and fails on it).
    mutating func adminName(_ node: YAMLNode, _ what: String) -> String? {
        guard let name = roleName(node, what) else { return nil }
        if name.contains("\"") {
            error("\(what) '\(name)' contains a double quote, which initdb cannot create; choose another name", node)
            return nil
        }
        return name
    }

    /// PostgreSQL's predefined roles that reach beyond the database: a membership in one is
    /// granted when the file asks, with a word about what it gives.
    static let serverAccessRoles: [String: String] = [
        "pg_read_server_files": "reads any file the server can",
        "pg_write_server_files": "writes any file the server can",
        "pg_execute_server_program": "runs programs as the server's OS user",
        "pg_read_all_data": "reads every table", "pg_write_all_data": "writes every table",
        "pg_signal_backend": "signals other sessions", "pg_monitor": "reads every session's activity",
    ]

    mutating func postgresSpec(_ node: YAMLNode, _ what: String) -> PostgresSpec? {
        guard let entries = node.mapping else {
            expect(what, "a mapping with roles, databases and admin", node)
            return nil
        }
        warnUnknownKeys(entries, known: ["roles", "databases", "admin"], in: what)
        var spec = PostgresSpec(admin: nil, roles: [], databases: [])
        if let admin = node["admin"] {
            if let settings = admin.mapping {
                warnUnknownKeys(settings, known: ["user", "password", "change_password"], in: "\(what).admin")
                spec.admin = PostgresSpec.Admin(
                    user: admin["user"].flatMap { adminName($0, "\(what).admin.user") },
                    password: admin["password"].flatMap { secret($0, "\(what).admin.password") },
                    changePassword: admin["change_password"].flatMap { bool($0, "\(what).admin.change_password") }
                        ?? false)
            } else {
                expect("\(what).admin", "a mapping", admin)
            }
        }
        for item in node["roles"]?.sequence ?? [] {
            let where_ = "\(what).roles"
            if item.scalar != nil, !item.isNull {
                guard let checked = roleName(item, "\(where_)[]") else { continue }
                spec.roles.append(
                    .init(
                        name: checked, password: nil, login: true, createdb: false, memberOf: [], connectionLimit: nil))
                continue
            }
            guard let settings = item.mapping else {
                expect("an item of \(where_)", "a role name or a mapping with name", item)
                continue
            }
            warnUnknownKeys(
                settings, known: ["name", "password", "login", "createdb", "member_of", "connection_limit"], in: where_)
            guard let nameNode = item["name"], let name = roleName(nameNode, "\(where_)[].name") else {
                if item["name"] == nil { error("a role in \(where_) needs a name", item) }
                continue
            }
            spec.roles.append(
                .init(
                    name: name, password: item["password"].flatMap { secret($0, "\(where_).\(name).password") },
                    login: item["login"].flatMap { bool($0, "\(where_).\(name).login") } ?? true,
                    createdb: item["createdb"].flatMap { bool($0, "\(where_).\(name).createdb") } ?? false,
                    memberOf: item["member_of"].flatMap { stringList($0, "\(where_).\(name).member_of") } ?? [],
                    connectionLimit: item["connection_limit"].flatMap {
                        int($0, "\(where_).\(name).connection_limit", range: -1...100_000)
                    }))
        }
        for role in spec.roles {
            for group in role.memberOf {
                guard let gives = Self.serverAccessRoles[group.lowercased()] else { continue }
                let place = node["roles"]?.sequence?.first { $0["name"]?.scalar == role.name }?["member_of"]
                context.warnings.append(
                    .warning(
                        "\(what).roles.\(role.name).member_of grants \(group), which \(gives): the role can reach beyond its database",
                        at: (place ?? node).location))
            }
        }
        if let roles = node["roles"], roles.sequence == nil { expect("\(what).roles", "a list", roles) }
        for item in node["databases"]?.sequence ?? [] {
            let where_ = "\(what).databases"
            if item.scalar != nil, !item.isNull {
                guard let name = identifier(item, "\(where_)[]") else { continue }
                spec.databases.append(
                    .init(name: name, owner: nil, encoding: nil, locale: nil, extensions: [], schemas: [], grants: []))
                continue
            }
            guard let settings = item.mapping else {
                expect("an item of \(where_)", "a database name or a mapping with name", item)
                continue
            }
            warnUnknownKeys(
                settings, known: ["name", "owner", "encoding", "locale", "extensions", "schemas", "grants"], in: where_)
            guard let nameNode = item["name"], let name = identifier(nameNode, "\(where_)[].name") else {
                if item["name"] == nil { error("a database in \(where_) needs a name", item) }
                continue
            }
            var grants: [PostgresSpec.Grant] = []
            for grant in item["grants"]?.sequence ?? [] {
                guard let role = grant["role"].flatMap({ identifier($0, "\(where_).\(name).grants[].role") }) else {
                    if grant["role"] == nil { error("a grant in \(where_).\(name) needs a role", grant) }
                    continue
                }
                let privileges =
                    (grant["privileges"].flatMap { stringList($0, "\(where_).\(name).grants[].privileges") } ?? [])
                    .map { $0.lowercased() }
                for privilege in privileges where !PostgresSpec.privileges.contains(privilege) {
                    error(
                        "'\(privilege)' in \(where_).\(name).grants is not a privilege devenv grants (\(PostgresSpec.privileges.sorted().joined(separator: ", ")))",
                        grant)
                }
                grants.append(.init(role: role, privileges: privileges))
            }
            spec.databases.append(
                .init(
                    name: name, owner: item["owner"].flatMap { identifier($0, "\(where_).\(name).owner") },
                    encoding: item["encoding"].flatMap { string($0, "\(where_).\(name).encoding") },
                    locale: item["locale"].flatMap { string($0, "\(where_).\(name).locale") },
                    extensions: item["extensions"].flatMap { stringList($0, "\(where_).\(name).extensions") } ?? [],
                    schemas: item["schemas"].flatMap { stringList($0, "\(where_).\(name).schemas") } ?? [],
                    grants: grants))
        }
        if let databases = node["databases"], databases.sequence == nil {
            expect("\(what).databases", "a list", databases)
        }
        // Owners, members and grantees must be declared roles (or the admin).
        let known = Set(spec.roles.map(\.name) + [spec.admin?.user].compactMap { $0 })
        for database in spec.databases {
            for role in [database.owner].compactMap({ $0 }) + database.grants.map(\.role) where !known.contains(role) {
                error(
                    "role '\(role)' used by database '\(database.name)' is not declared under \(what).roles",
                    node["databases"] ?? node)
            }
        }
        return spec
    }

    mutating func redisSpec(_ node: YAMLNode, _ what: String) -> RedisSpec? {
        guard let entries = node.mapping else {
            expect(what, "a mapping with password and databases", node)
            return nil
        }
        warnUnknownKeys(entries, known: ["password", "databases"], in: what)
        var databases: [String: Int] = [:]
        if let value = node["databases"] {
            for entry in value.mapping ?? [] {
                if let number = int(entry.value, "\(what).databases.\(entry.key)", range: 0...15) {
                    databases[entry.key] = number
                }
            }
            if value.mapping == nil { expect("\(what).databases", "a mapping of name to number", value) }
        }
        return RedisSpec(password: node["password"].flatMap { secret($0, "\(what).password") }, databases: databases)
    }

    mutating func djangoSpec(_ node: YAMLNode, _ what: String) -> DjangoSpec? {
        guard let entries = node.mapping else {
            expect(what, "a mapping", node)
            return nil
        }
        warnUnknownKeys(entries, known: ["superuser", "migrate", "site", "manage"], in: what)
        var spec = DjangoSpec(superuser: nil, migrate: false, site: nil, manage: nil)
        if let value = node["superuser"] {
            if let username = value["username"].flatMap({ string($0, "\(what).superuser.username") }) {
                spec.superuser = .init(
                    username: username, email: value["email"].flatMap { string($0, "\(what).superuser.email") } ?? "",
                    password: value["password"].flatMap { string($0, "\(what).superuser.password") })
            } else if value["username"] == nil {
                error("\(what).superuser needs a username", value)
            }
        }
        if let value = node["migrate"] {
            if value.sequence != nil {
                spec.migrateDatabases = stringList(value, "\(what).migrate") ?? []
                spec.migrate = true
            } else {
                spec.migrate = bool(value, "\(what).migrate") ?? false
            }
        }
        if let value = node["site"] {
            if let id = value["id"].flatMap({ int($0, "\(what).site.id", range: 1...Int(Int32.max)) }),
                let domain = value["domain"].flatMap({ string($0, "\(what).site.domain") })
            {
                spec.site = .init(
                    id: id, domain: domain, name: value["name"].flatMap { string($0, "\(what).site.name") })
            } else if value["id"] == nil || value["domain"] == nil {
                error("\(what).site needs id and domain", value)
            }
        }
        if let value = node["manage"] { spec.manage = commandLine(value, "\(what).manage") }
        return spec
    }
}
