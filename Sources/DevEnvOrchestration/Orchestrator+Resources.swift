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

// Published ports, networks and volumes.
extension Orchestrator {
    /// Refuses to start anything when a published port is taken by someone else.
    func checkPorts(
        _ services: [Service], plans: [String: ContainerPlan], existing: [String: ContainerSummary]
    ) async throws {
        var problems: [String] = []
        var claimed: [String: String] = [:]
        for service in services {
            let current = existing[service.name]
            let keeps =
                current?.status == .running
                && current?.Labels?[ProjectLabel.configHash] == plans[service.name]?.configHash
            for port in service.ports {
                guard let published = port.published else { continue }
                let key = "\(port.hostIP):\(published)/\(port.protocol)"
                if let other = claimed[key] {
                    problems.append(
                        "port \(published) on \(port.hostIP) is published by both '\(other)' and '\(service.name)'")
                    continue
                }
                claimed[key] = service.name
                // Held by this project's own container for this service: fine, it stays or is replaced.
                if current?.Ports?.contains(where: { $0.PublicPort == published }) == true { continue }
                if keeps { continue }
                // A remote engine's ports are on its host, not this one: the engine says if taken.
                if !endpoints.isRemote
                    && !PortCheck.isFree(hostIP: port.hostIP, port: published, protocol: port.protocol),
                    await !ownContainerClaims(published)
                {
                    let holder =
                        existing.values.first { $0.Ports?.contains { $0.PublicPort == published } == true }
                        .map { "container \($0.name ?? "")" }
                        ?? PortCheck.holder(ofTCPPort: published).map { "process \($0)" }
                    problems.append(
                        "port \(published) on \(port.hostIP) for service '\(service.name)' is already in use"
                            + (holder.map { " by \($0)" } ?? "") + "; stop it or change the published port")
                }
            }
        }
        if !problems.isEmpty { throw DevEnvError(problems.joined(separator: "\n")) }
    }

    /// The stack's declared networks and named volumes that `services` use (what `up` creates
    /// or checks, and what `plan` reports).
    func declaredResources(usedBy services: [Service]) -> (networks: [NamedNetwork], volumes: [NamedVolume]) {
        let networks = Set(services.flatMap { $0.networks.keys })
        let volumes = Set(services.flatMap { $0.volumes.compactMap { $0.type == .volume ? $0.source : nil } })
        return (
            stack.networks.filter { networks.contains($0.name) }, stack.volumes.filter { volumes.contains($0.name) }
        )
    }

    /// Whether a container of this project that is not running claims `port`: one whose start a
    /// killed `up` left in progress holds the port (dockerd's proxy is up) while the engine
    /// still lists it as created, without ports. This `up` starts or replaces it.
    func ownContainerClaims(_ port: Int) async -> Bool {
        guard let containers = try? await engine.listContainers(all: true, labels: projectFilter) else { return false }
        for container in containers where container.status != .running {
            let bindings = (try? await engine.inspectContainer(container.Id))?.HostConfig?.PortBindings ?? [:]
            if bindings.values.contains(where: { $0.contains { $0.HostPort == String(port) } }) { return true }
        }
        return false
    }

    /// Creates what is missing; records each network's engine ID in `networkIDs`.
    func ensureNetworksAndVolumes(_ services: [Service]) async throws {
        var existingNetworks = try await engine.listNetworks(labels: projectFilter)
        let (usedNetworks, usedVolumes) = declaredResources(usedBy: services)
        for network in usedNetworks {
            if network.external {
                do {
                    let id = try await engine.inspectNetwork(network.engineName).Id
                    networkIDs.withLock { $0[network.engineName] = id }
                } catch let error as DockerEngineError where error.isNotFound {
                    throw DevEnvError("external network \(network.engineName) does not exist; create it first")
                }
                continue
            }
            if !existingNetworks.contains(where: { $0.Name == network.engineName }) {
                var spec = NetworkCreate(
                    name: network.engineName, driver: network.driver ?? "bridge",
                    labels: [
                        ProjectLabel.project: stack.name, ProjectLabel.network: network.name,
                        ProjectLabel.managed: "true",
                    ].merging(ephemeral?.labels(project: stack.name) ?? [:]) { $1 })
                spec.Attachable = true
                _ = try await retryingTransientNetworkSetup { [spec] in try await self.engine.createNetwork(spec) }
                emit(nil, .created, "network \(network.engineName)")
                existingNetworks = try await engine.listNetworks(labels: projectFilter)
            }
            try await keepOneNetwork(named: network.engineName, among: existingNetworks)
        }
        let existingVolumes = Set(try await engine.listVolumes(labels: projectFilter).map(\.Name))
        for volume in usedVolumes {
            if volume.external {
                do {
                    _ = try await engine.inspectVolume(volume.engineName)
                } catch let error as DockerEngineError where error.isNotFound {
                    throw DevEnvError("external volume \(volume.engineName) does not exist; create it first")
                }
                continue
            }
            guard !existingVolumes.contains(volume.engineName) else { continue }
            var labels = volume.labels
            labels[ProjectLabel.project] = stack.name
            labels[ProjectLabel.volume] = volume.name
            labels[ProjectLabel.managed] = "true"
            labels.merge(ephemeral?.labels(project: stack.name) ?? [:]) { $1 }
            _ = try await engine.createVolume(VolumeCreate(name: volume.engineName, labels: labels))
            emit(nil, .created, "volume \(volume.engineName)")
        }
    }

    /// The engine allows two networks of one name: a killed `up`'s create can land after the next
    /// `up` listed, and the engine then refuses to start any container on that name ("is
    /// ambiguous"). Keeps the lowest ID, which every run agrees on; moves this project's
    /// containers, running or stopped, from the others onto it with the same aliases; removes the
    /// others. Records the kept network's ID in `networkIDs`.
    func keepOneNetwork(named engineName: String, among networks: [NetworkInspect]) async throws {
        let same = networks.filter { $0.Name == engineName }.sorted { $0.Id < $1.Id }
        guard let kept = same.first else { return }
        networkIDs.withLock { $0[engineName] = kept.Id }
        guard same.count > 1 else { return }
        let duplicates = Set(same.dropFirst().map(\.Id))
        for container in try await engine.listContainers(all: true, labels: projectFilter) {
            guard
                let endpoint = try? await engine.inspectContainer(container.Id).NetworkSettings?.Networks?[engineName],
                let networkID = endpoint.NetworkID, duplicates.contains(networkID)
            else { continue }
            // The engine adds the container's short ID as an alias of its own; the rest are ours.
            let aliases = (endpoint.Aliases ?? []).filter { !container.Id.hasPrefix($0) }
            try await engine.disconnectNetwork(networkID, container: container.Id, force: true)
            try await engine.connectNetwork(kept.Id, container: container.Id, aliases: aliases)
        }
        for duplicate in same.dropFirst() {
            do {
                try await engine.removeNetwork(duplicate.Id)
            } catch let error as DockerEngineError where error.isNotFound {
                continue
            } catch let error as DockerEngineError where !error.meansEngineGone {
                let id = duplicate.Id.prefix(12)
                throw DevEnvError(
                    "network \(engineName) exists twice and its copy \(id) could not be removed: \(error.message); see 'docker network inspect \(id)', remove it with 'docker network rm \(id)', and run 'devenv up' again"
                )
            }
        }
    }

    /// Every network name of the project kept once (see `keepOneNetwork`).
    func keepOneNetworkPerName() async throws {
        let networks = try await engine.listNetworks(labels: projectFilter)
        for name in Set(networks.map(\.Name)) { try await keepOneNetwork(named: name, among: networks) }
    }

    /// Starts a container. A network of the project that exists twice (a killed `up`'s create
    /// that landed after this one made its plan) is merged into one and the start tried again;
    /// rootless Podman's transient refusal is asked again (`retryingTransientNetworkSetup`).
    /// `up`, `run` and the server migration's one-off all start through here.
    public func startContainer(_ id: String) async throws {
        do {
            try await retryingTransientNetworkSetup { try await self.engine.startContainer(id) }
        } catch let error as DockerEngineError where error.message.contains(" is ambiguous ") {
            try await keepOneNetworkPerName()
            try await engine.startContainer(id)
        }
    }

    static let transientRetries = 3

    /// Runs `call`, and asks again (up to `transientRetries` times, after 0.3, 0.6, 0.9 s) when a
    /// rootless Podman answers `route ip+net: no such network interface`: its rootless network
    /// namespace was being set up or torn down by another container's start or stop at that
    /// moment (seen in CI, creating a network while other projects came and went).
    func retryingTransientNetworkSetup<T: Sendable>(_ call: @Sendable () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await call()
            } catch let error as DockerEngineError
                where Self.isTransientNetworkSetup(error) && attempt < Self.transientRetries
            {
                attempt += 1
                try await Task.sleep(for: .milliseconds(300 * attempt))
            }
        }
    }

    /// A call refused while the engine's own network plumbing was changing under it.
    static func isTransientNetworkSetup(_ error: DockerEngineError) -> Bool {
        error.status == 500 && error.message.contains("no such network interface")
    }
}
