import DockerEngine
import Foundation
import StateStore

/// The variables a process on the host needs to reach the stack's databases: URLs built
/// from the services' own settings and the ports the engine published on this machine.
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
        var variables: [String: String] = [:]
        var firstPostgres = true
        var firstRedis = true
        for service in stack.services {
            guard let container = containers.first(where: { $0.Labels?[ProjectLabel.service] == service.name }) else {
                continue
            }
            let prefix = service.name.uppercased().replacingOccurrences(of: "-", with: "_").replacingOccurrences(
                of: ".", with: "_")
            let environment = (try? resolver.environment(of: service)) ?? service.environment
            if Self.isPostgres(service, project: stack.name), let (host, port) = Self.published(container, 5432) {
                let user = environment["POSTGRES_USER"] ?? "postgres"
                let password = environment["POSTGRES_PASSWORD"] ?? ""
                let database = environment["POSTGRES_DB"] ?? user
                let url =
                    "postgresql://\(Self.escape(user)):\(Self.escape(password))@\(Self.hostPart(host)):\(port)/\(Self.escape(database))"
                variables["\(prefix)_URL"] = url
                if firstPostgres {
                    firstPostgres = false
                    variables["DATABASE_URL"] = url
                    variables["PGHOST"] = host
                    variables["PGPORT"] = String(port)
                    variables["PGUSER"] = user
                    variables["PGPASSWORD"] = password
                    variables["PGDATABASE"] = database
                }
            } else if Self.isRedis(service, project: stack.name), let (host, port) = Self.published(container, 6379) {
                let declared = TemplateResolver.declaredValue(service.devenv?.settings ?? [:], ["redis", "password"])
                let password =
                    declared == nil
                    ? nil : try? resolver.resolve(Template.Reference(service: service.name, path: ["password"]))
                let auth = password.map { ":\(Self.escape($0))@" } ?? ""
                let url = "redis://\(auth)\(Self.hostPart(host)):\(port)/0"
                variables["\(prefix)_URL"] = url
                if firstRedis {
                    firstRedis = false
                    variables["REDIS_URL"] = url
                }
            }
        }
        return variables
    }

    static func isPostgres(_ service: Service, project: String) -> Bool {
        service.devenv?.settings["postgres"] != nil
            || service.imageReference(project: project).lowercased().contains("postgres")
    }

    static func isRedis(_ service: Service, project: String) -> Bool {
        service.devenv?.settings["redis"] != nil
            || service.imageReference(project: project).lowercased().hasPrefix("redis")
    }

    /// The host address and port where `containerPort` is published.
    static func published(_ container: ContainerSummary, _ containerPort: Int) -> (String, Int)? {
        guard let port = container.Ports?.first(where: { $0.PrivatePort == containerPort && $0.PublicPort != nil }),
            let published = port.PublicPort
        else { return nil }
        let ip = port.IP.flatMap { $0.isEmpty || $0 == "0.0.0.0" || $0 == "::" ? nil : $0 } ?? "127.0.0.1"
        return (ip, published)
    }

    static func hostPart(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }

    static func escape(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}
