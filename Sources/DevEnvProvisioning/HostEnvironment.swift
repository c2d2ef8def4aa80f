import DevEnvModel
import DevEnvRuntime
import DockerEngine
import Foundation
import StateStore

/// The variables a process on the host needs to reach the stack's databases: URLs built
/// from the services' own settings and the ports the engine published, on the engine's host.
public struct HostEnvironment: Sendable {
    let engine: any ContainerEngine
    let stack: Stack
    let store: StateStore

    public init(engine: any ContainerEngine, stack: Stack, store: StateStore) {
        self.engine = engine
        self.stack = stack
        self.store = store
    }

    public func variables() async throws -> [String: String] {
        let containers = try await engine.listContainers(all: false, labels: [ProjectLabel.project: stack.name])
        let resolver = TemplateResolver(stack: stack, store: store)
        let endpoints = HostEndpoints(connection: engine.connection)
        var variables: [String: String] = [:]
        // DATABASE_URL, PG*, DJANGO_DATABASE_* and REDIS_URL describe one server each: the first
        // running one the file provisions with x-devenv, else the first running one. (Every
        // PostgreSQL and Redis is published now, so "the one the file publishes" no longer says.)
        let running = stack.services.filter { service in
            containers.contains { $0.Labels?[ProjectLabel.service] == service.name }
        }
        let postgres = running.filter { $0.kind == .postgres }
        let redis = running.filter { $0.kind == .redis }
        let primaryPostgres = (postgres.first { $0.devenv?.postgres != nil } ?? postgres.first)?.name
        let primaryRedis = (redis.first { $0.devenv?.redis != nil } ?? redis.first)?.name
        for service in stack.services {
            guard let container = containers.first(where: { $0.Labels?[ProjectLabel.service] == service.name }) else {
                continue
            }
            var firstPostgres = service.name == primaryPostgres
            let firstRedis = service.name == primaryRedis
            let prefix = Self.variableName(service.name)
            let environment = (try? resolver.environment(of: service)) ?? service.environment
            if service.kind == .postgres, let (host, port) = endpoints.published(container, 5432) {
                var firstLogin = true
                for connection in try Self.databaseLogins(service, environment: environment, resolver: resolver) {
                    let url =
                        "postgresql://\(Self.escape(connection.user)):\(Self.escape(connection.password))@\(Self.hostPart(host)):\(port)/\(Self.escape(connection.database))"
                    let name = Self.variableName(connection.database)
                    if connection.isDeclared { variables["\(name)_DATABASE_URL"] = url }
                    if firstLogin { variables["\(prefix)_URL"] = url }
                    firstLogin = false
                    guard firstPostgres else { continue }
                    firstPostgres = false
                    variables["DATABASE_URL"] = url
                    variables["PGHOST"] = host
                    variables["PGPORT"] = String(port)
                    variables["PGUSER"] = connection.user
                    variables["PGPASSWORD"] = connection.password
                    variables["PGDATABASE"] = connection.database
                    variables["DJANGO_DATABASE_ENGINE"] = "django.db.backends.postgresql"
                    variables["DJANGO_DATABASE_NAME"] = connection.database
                    variables["DJANGO_DATABASE_USER"] = connection.user
                    variables["DJANGO_DATABASE_PASSWORD"] = connection.password
                    variables["DJANGO_DATABASE_HOST"] = host
                    variables["DJANGO_DATABASE_PORT"] = String(port)
                }
            } else if service.kind == .redis, let (host, port) = endpoints.published(container, 6379) {
                let password = service.devenv?.redis?.password == nil ? nil : environment["REDIS_PASSWORD"]
                let auth = password.map { ":\(Self.escape($0))@" } ?? ""
                let base = "redis://\(auth)\(Self.hostPart(host)):\(port)"
                variables["\(prefix)_URL"] = "\(base)/0"
                for (name, number) in service.devenv?.redis?.databases ?? [:] {
                    variables["\(prefix)_\(Self.variableName(name))_URL"] =
                        "\(base)/\(number)"
                }
                if firstRedis { variables["REDIS_URL"] = "\(base)/0" }
            } else {
                variables.merge(Self.httpURLs(container, prefix: prefix, endpoints: endpoints)) { first, _ in first }
            }
        }
        return variables
    }

    public struct DatabaseLogin: Sendable {
        public var database: String
        public var user: String
        public var password: String
        /// From `x-devenv.postgres.databases` (rather than the image's `POSTGRES_*`).
        public var isDeclared: Bool
    }

    /// Each declared database with its owner's credentials; without `x-devenv.postgres`, the
    /// image's own database and superuser.
    public static func databaseLogins(
        _ service: Service, environment: [String: String], resolver: TemplateResolver
    ) throws -> [DatabaseLogin] {
        let adminUser = environment["POSTGRES_USER"] ?? "postgres"
        let adminPassword = environment["POSTGRES_PASSWORD"] ?? ""
        guard let spec = service.devenv?.postgres, !spec.databases.isEmpty else {
            return [
                DatabaseLogin(
                    database: environment["POSTGRES_DB"] ?? adminUser, user: adminUser, password: adminPassword,
                    isDeclared: false)
            ]
        }
        return try spec.databases.map { database in
            guard let owner = database.owner, spec.roles.contains(where: { $0.name == owner && $0.login }) else {
                return DatabaseLogin(
                    database: database.name, user: adminUser, password: adminPassword, isDeclared: true)
            }
            let password = try resolver.resolve(
                Template.Reference(service: service.name, path: ["roles", owner, "password"]))
            return DatabaseLogin(database: database.name, user: owner, password: password, isDeclared: true)
        }
    }

    /// An app's published TCP ports as http URLs: `<SERVICE>_URL` for the lowest container
    /// port, and `<SERVICE>_<PORT>_URL` for each when it publishes several.
    static func httpURLs(_ container: ContainerSummary, prefix: String, endpoints: HostEndpoints) -> [String: String] {
        let ports = Set(
            (container.Ports ?? []).filter { $0.PublicPort != nil && $0.`Type` != "udp" }.map(\.PrivatePort)
        )
        .sorted()
        var urls: [String: String] = [:]
        for port in ports {
            guard let (host, published) = endpoints.published(container, port) else { continue }
            let url = "http://\(hostPart(host)):\(published)"
            if port == ports.first { urls["\(prefix)_URL"] = url }
            if ports.count > 1 { urls["\(prefix)_\(port)_URL"] = url }
        }
        return urls
    }

    /// A name as part of a shell variable name: upper case, ASCII letters and digits, anything
    /// else `_`, and `_` in front of a leading digit (`dials-tracker` → `DIALS_TRACKER`).
    static func variableName(_ text: String) -> String {
        let mapped = String(
            text.uppercased().unicodeScalars.map {
                $0.isASCII && CharacterSet.alphanumerics.contains($0) ? Character($0) : "_"
            })
        return mapped.first.map { $0.isNumber } == true ? "_" + mapped : mapped
    }

    static func hostPart(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }

    static func escape(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}
