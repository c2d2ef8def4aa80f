import DevEnvModel
import DevEnvRuntime
import DockerEngine
import Foundation

/// `stop`, `start`, `restart`, `kill`, `pause`, `unpause` and `rm`, as docker compose has them:
/// they act on the containers `up` made for the named services (all when none are named),
/// never create one, and never touch volumes, networks or state.
extension Orchestrator {
    /// The project's container of each named service (all services when `names` is empty), in
    /// dependency order; services without a container are left out. An unknown name is a
    /// usage error.
    func lifecycleTargets(_ names: [String]) async throws -> [(service: Service, container: ContainerSummary)] {
        let containers = try await projectContainers().byService
        guard !stack.services.isEmpty else {
            // Only a project name (`-p NAME` without a file): the services its containers name.
            return containers.keys.sorted().filter { names.isEmpty || names.contains($0) }.map {
                (Service.named($0), containers[$0]!)
            }
        }
        return try namedServices(names).compactMap { service in containers[service.name].map { (service, $0) } }
    }

    /// Stops running containers, dependents first, each within its grace period (`timeout`
    /// seconds if given). Returns the services stopped.
    @discardableResult
    public func stop(_ names: [String], timeout: Int? = nil) async throws -> [String] {
        var stopped: [String] = []
        for (service, container) in try await lifecycleTargets(names).reversed()
        where container.status == .running || container.status == .restarting || container.status == .paused {
            emit(service.name, .stopping)
            let grace = timeout ?? Int((service.stopGracePeriod ?? 10).rounded(.up))
            do {
                try await engine.stopContainer(container.Id, timeout: grace)
            } catch let error as DockerEngineError where error.isNotFound {
                continue
            }
            emit(service.name, .stopped)
            stopped.append(service.name)
        }
        emit(nil, .done)
        return stopped
    }

    /// Starts containers that exist and are not running, dependencies first. A named service
    /// with no container is an error that says to run `up` (start never creates one).
    @discardableResult
    public func start(_ names: [String]) async throws -> [String] {
        let targets = try await lifecycleTargets(names)
        let missing = (names.isEmpty ? [] : names).filter { name in !targets.contains { $0.service.name == name } }
        if !missing.isEmpty {
            throw DevEnvError(
                "\(missing.joined(separator: ", ")) \(missing.count == 1 ? "has" : "have") no container; 'devenv up \(missing.joined(separator: " "))' creates \(missing.count == 1 ? "it" : "them")"
            )
        }
        var started: [String] = []
        for (service, container) in targets where container.status != .running {
            emit(service.name, .starting)
            if container.status == .paused {
                try await engine.unpauseContainer(container.Id)
            } else {
                try await startContainer(container.Id)
            }
            emit(service.name, .started)
            started.append(service.name)
        }
        emit(nil, .done)
        return started
    }

    /// Stops, then starts, the containers of the named services.
    @discardableResult
    public func restart(_ names: [String], timeout: Int? = nil) async throws -> [String] {
        let targets = try await lifecycleTargets(names)
        for (service, container) in targets.reversed()
        where container.status == .running || container.status == .paused {
            emit(service.name, .stopping)
            if container.status == .paused { try await engine.unpauseContainer(container.Id) }
            let grace = timeout ?? Int((service.stopGracePeriod ?? 10).rounded(.up))
            try await engine.stopContainer(container.Id, timeout: grace)
        }
        for (service, container) in targets {
            emit(service.name, .starting)
            try await startContainer(container.Id)
            emit(service.name, .started)
        }
        emit(nil, .done)
        return targets.map(\.service.name)
    }

    /// Sends `signal` to the running containers of the named services.
    @discardableResult
    public func kill(_ names: [String], signal: String = "SIGKILL") async throws -> [String] {
        guard signal.range(of: #"^(SIG)?[A-Z0-9+-]+$|^[0-9]+$"#, options: .regularExpression) != nil else {
            throw DevEnvError("'\(signal)' is not a signal name (SIGTERM, KILL) or number", exitCode: 2)
        }
        var signalled: [String] = []
        for (service, container) in try await lifecycleTargets(names) where container.status == .running {
            try await engine.killContainer(container.Id, signal: signal)
            emit(service.name, .stopped, "sent \(signal)")
            signalled.append(service.name)
        }
        emit(nil, .done)
        return signalled
    }

    /// Freezes (`paused: true`) or thaws the running containers of the named services.
    @discardableResult
    public func pause(_ names: [String], paused: Bool) async throws -> [String] {
        var changed: [String] = []
        for (service, container) in try await lifecycleTargets(names) {
            if paused, container.status == .running {
                try await freeze(container.Id)
                emit(service.name, .stopped, "paused")
            } else if !paused, container.status == .paused {
                try await engine.unpauseContainer(container.Id)
                emit(service.name, .started, "unpaused")
            } else {
                continue
            }
            changed.append(service.name)
        }
        emit(nil, .done)
        return changed
    }

    /// Pauses a container, trying again when the kernel's freezer gives up on a busy cgroup
    /// ("unable to freeze", seen on a loaded rootful dockerd): three tries, half a second apart.
    func freeze(_ id: String) async throws {
        for attempt in 1... {
            do {
                return try await engine.pauseContainer(id)
            } catch let error as DockerEngineError where error.message.contains("unable to freeze") && attempt < 3 {
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// Removes the stopped containers of the named services (and their anonymous volumes, as
    /// `down` does). Running ones are stopped first with `stopFirst`, else refused by name.
    @discardableResult
    public func remove(_ names: [String], stopFirst: Bool) async throws -> [String] {
        let targets = try await lifecycleTargets(names)
        let running = targets.filter { $0.container.status == .running || $0.container.status == .paused }
        if !stopFirst, !running.isEmpty {
            throw DevEnvError(
                "\(running.map(\.service.name).joined(separator: ", ")) \(running.count == 1 ? "is" : "are") running; stop \(running.count == 1 ? "it" : "them") first, or use 'devenv rm --stop'"
            )
        }
        var removed: [String] = []
        for (service, container) in targets.reversed() {
            if container.status == .running || container.status == .paused { emit(service.name, .stopping) }
            try await removeContainer(container, timeout: service.stopGracePeriod)
            emit(service.name, .removed)
            removed.append(service.name)
        }
        emit(nil, .done)
        return removed
    }
}

/// One service's image, as `devenv images` shows it.
public struct ServiceImage: Sendable, Codable, Equatable {
    public var service: String
    public var container: String
    /// The reference the file names (or `<project>-<service>` for a build).
    public var image: String
    public var id: String
    /// Bytes; nil when the engine no longer has the image.
    public var size: Int64?
}

/// One service's processes, as `devenv top` shows them.
public struct ServiceProcesses: Sendable, Codable, Equatable {
    public var service: String
    public var titles: [String]
    public var processes: [[String]]
}

extension Orchestrator {
    /// Where `port/protocol` of the service's container is published: `(host, port)` pairs,
    /// one per binding (IPv4 and IPv6 bindings of one port are two). An unknown service or a
    /// port it does not publish is an error that says which ports it does publish.
    public func publishedPort(service: String, port: Int, protocol: String = "tcp") async throws -> [ServiceStatus.Port]
    {
        _ = try selectedServices([service])
        guard let row = try await status().first(where: { $0.service == service }) else {
            throw DevEnvError("\(service) has no container; 'devenv up \(service)' creates it")
        }
        let published = row.ports.filter { $0.hostPort != nil }
        let matching = published.filter { $0.containerPort == port && $0.protocol == `protocol` }
        guard !matching.isEmpty else {
            let list = published.map { "\($0.containerPort)/\($0.protocol)" }
            throw DevEnvError(
                "\(service) does not publish \(port)/\(`protocol`)"
                    + (list.isEmpty ? "; it publishes no port" : "; it publishes \(list.joined(separator: ", "))"))
        }
        return matching
    }

    /// The image of each service's container (all services, or the named ones).
    public func images(_ names: [String]) async throws -> [ServiceImage] {
        var rows: [ServiceImage] = []
        for (service, container) in try await lifecycleTargets(names) {
            let inspected = try? await engine.inspectContainer(container.Id)
            let id = inspected?.Image ?? container.ImageID ?? ""
            let image = try? await engine.imageIfPresent(id)
            rows.append(
                ServiceImage(
                    service: service.name, container: container.name ?? "",
                    image: service.image ?? container.Labels?[PostgresInitCache.fromLabel] ?? container.Image,
                    id: id, size: image?.Size))
        }
        return rows
    }

    /// The processes of each running service's container (all services, or the named ones).
    public func top(_ names: [String]) async throws -> [ServiceProcesses] {
        var rows: [ServiceProcesses] = []
        for (service, container) in try await lifecycleTargets(names) where container.status == .running {
            let top = try await engine.top(container.Id, psArguments: nil)
            rows.append(ServiceProcesses(service: service.name, titles: top.Titles, processes: top.Processes))
        }
        return rows
    }
}
