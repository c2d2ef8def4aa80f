import Crypto
import DevEnvModel
import DevEnvProvisioning
import DevEnvRuntime
import DevEnvSamples
import DockerEngine
import Foundation
import Platform
import Postgres
import StateStore

// down and status.
extension Orchestrator {
    /// Stops and removes the project's containers and networks; volumes (and the project's
    /// generated secrets) only with `removeVolumes`.
    public func down(removeVolumes: Bool, timeout: Int? = nil) async throws {
        let containers = try await engine.listContainers(all: true, labels: projectFilter)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for container in containers {
                group.addTask {
                    // A `devenv run` container by its own name (it has no service label).
                    let name =
                        container.Labels?[ProjectLabel.service]
                        ?? container.name ?? container.Id
                    let grace = timeout.map(Double.init) ?? self.stack.service(name)?.stopGracePeriod
                    if container.status == .running { self.emit(name, .stopping) }
                    try await self.removeContainer(container, timeout: grace)
                    self.emit(name, .removed)
                }
            }
            try await group.waitForAll()
        }
        for network in try await engine.listNetworks(labels: projectFilter) {
            do {
                try await engine.removeNetwork(network.Id)
                emit(nil, .removed, "network \(network.Name)")
            } catch let error as DockerEngineError where error.isNotFound {}
        }
        if removeVolumes {
            for volume in try await engine.listVolumes(labels: projectFilter) {
                do {
                    try await engine.removeVolume(volume.Name, force: false)
                    emit(nil, .removed, "volume \(volume.Name)")
                } catch let error as DockerEngineError where error.isNotFound {}
            }
            try store?.deleteProject(named: stack.name)
        }
        emit(nil, .done)
    }

    /// The project's containers as `devenv status` shows them.
    public func status() async throws -> [ServiceStatus] {
        let containers = try await engine.listContainers(all: true, labels: projectFilter)
        // Health from each running container's state (the list's status text differs between
        // engines: Podman's carries no health at all).
        let health = try await withThrowingTaskGroup(of: (String, String).self) { group in
            for container in containers where container.status == .running {
                group.addTask {
                    let state = try? await self.engine.inspectContainer(container.Id).State
                    return (container.Id, state?.Health?.Status ?? "")
                }
            }
            var found: [String: String] = [:]
            for try await (id, status) in group { found[id] = status }
            return found
        }
        return containers.map { container in
            let health = health[container.Id] ?? ""
            let ports = (container.Ports ?? []).map {
                ServiceStatus.Port(
                    hostIP: $0.IP, hostPort: $0.PublicPort, containerPort: $0.PrivatePort, protocol: $0.Type)
            }.sorted { ($0.containerPort, $0.hostIP ?? "") < ($1.containerPort, $1.hostIP ?? "") }
            let service = container.Labels?[ProjectLabel.service] ?? container.Labels?[ProjectLabel.runOf] ?? ""
            return ServiceStatus(
                service: service, container: container.name ?? "",
                image: container.Labels?[PostgresInitCache.fromLabel]
                    ?? Self.declaredImage(container.Image, declared: stack.service(service)?.image),
                state: container.State, health: health, ports: ports)
        }.sorted { $0.service < $1.service }
    }
}
