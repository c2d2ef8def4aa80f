import DockerEngine
import Foundation

/// Marks a project as disposable: who made it and until when it may live. `devenv gc` (and
/// every `up`) removes expired ones — only resources carrying these labels, never anything else.
public struct Ephemeral: Sendable {
    public static let label = "dev.devenv.ephemeral"
    public static let ownerLabel = "dev.devenv.owner"
    public static let expiresLabel = "dev.devenv.expires"

    public var owner: String
    public var expires: Date

    public init(owner: String, expires: Date) {
        self.owner = owner
        self.expires = expires
    }

    public var labels: [String: String] {
        [Self.label: "true", Self.ownerLabel: owner, Self.expiresLabel: String(Int(expires.timeIntervalSince1970))]
    }

    /// `30s`, `10m`, `2h`, `1d` (or plain seconds).
    public static func duration(_ text: String) -> TimeInterval? {
        if let days = text.hasSuffix("d") ? Double(text.dropLast()) : nil { return days * 86_400 }
        return StackParser.parseDuration(text)
    }
}

extension Stack {
    /// PostgreSQL and Redis services that publish no port for their server get one on
    /// 127.0.0.1, chosen by the engine, so `devenv env` URLs work from the host.
    public func withLoopbackPorts() -> Stack {
        var copy = self
        copy.services = services.map { service in
            var service = service
            let port =
                service.isPostgres(project: name)
                ? 5432
                : service.isRedis(project: name) ? 6379 : nil
            if let port, !service.ports.contains(where: { $0.target == port }) {
                service.ports.append(PortMapping(target: port, published: nil, hostIP: "127.0.0.1", protocol: "tcp"))
            }
            return service
        }
        return copy
    }
}

/// Removes expired ephemeral projects: their containers, networks and volumes. Resources
/// without devenv's ephemeral label are never touched.
public struct Reaper: Sendable {
    let engine: any ContainerEngine

    public init(engine: any ContainerEngine) {
        self.engine = engine
    }

    /// The projects removed.
    @discardableResult
    public func collect(now: Date = Date()) async throws -> [String] {
        let filter: [String: String?] = [Ephemeral.label: "true"]
        func expired(_ labels: [String: String]?) -> String? {
            guard let labels, let project = labels[ProjectLabel.project],
                let expires = labels[Ephemeral.expiresLabel].flatMap(Double.init), expires < now.timeIntervalSince1970
            else { return nil }
            return project
        }
        let containers = try await engine.listContainers(all: true, labels: filter)
        let networks = try await engine.listNetworks(labels: filter)
        let volumes = try await engine.listVolumes(labels: filter)
        let projects = Set(
            containers.compactMap { expired($0.Labels) } + networks.compactMap { expired($0.Labels) }
                + volumes.compactMap { expired($0.Labels) })
        for container in containers where expired(container.Labels) != nil {
            try? await engine.removeContainer(container.Id, force: true, volumes: true)
        }
        for network in networks where expired(network.Labels) != nil { try? await engine.removeNetwork(network.Id) }
        for volume in volumes where expired(volume.Labels) != nil {
            try? await engine.removeVolume(volume.Name, force: true)
        }
        return projects.sorted()
    }
}
