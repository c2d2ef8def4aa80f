import DevEnvModel
import DockerEngine
import Foundation
import Platform

/// Where processes on this machine reach what the engine publishes, and where devenv asks the
/// engine to publish it. One resolver for every host-side connection: readiness probes,
/// provisioning, seeding, `env`, `psql`, `test` and `db`.
///
/// Published ports live on the engine's host: loopback for a local engine (rootful or rootless
/// Docker, Podman, Docker Desktop, Colima), the engine's own address for a remote one (a tcp://
/// or ssh:// engine such as CI's docker:dind). Containers' own addresses are used only on a
/// local rootful Docker on Linux, and only when they answer: elsewhere they are not reachable.
public struct HostEndpoints: Sendable, Equatable {
    /// The engine runs on another machine (tcp:// or ssh:// to a host that is not loopback).
    public let isRemote: Bool
    /// The host part of URLs and connections from this machine.
    public let reachableHost: String
    /// The address published ports bind to on the engine's host: 127.0.0.1 for a local engine
    /// (never every interface of a laptop); for a remote one `DEVENV_PUBLISH_ADDRESS`, else the
    /// address the engine's host name resolves to here, else 0.0.0.0.
    public let publishAddress: String

    /// The engine host's name does not resolve here: its published ports cannot be reached.
    public let unresolvable: Bool

    /// `DEVENV_ENGINE_ADDRESS` names the engine's host as this machine reaches it (default: the
    /// host of DOCKER_HOST or of the context; for ssh://, the HostName ssh's config gives it);
    /// `DEVENV_PUBLISH_ADDRESS` where its ports bind (e.g. 0.0.0.0 behind NAT).
    public init(
        connection: EngineConnection, settings: Settings = .current,
        resolve: (String) -> [String] = Sockets.addresses(of:),
        sshHostName: (EngineConnection) -> String? = Self.sshHostName
    ) {
        guard let named = connection.endpoint.remoteHost, !Self.isLoopback(named) else {
            isRemote = false
            reachableHost = "127.0.0.1"
            publishAddress = "127.0.0.1"
            unresolvable = false
            return
        }
        let host =
            settings.engineAddress ?? sshHostName(connection) ?? named
        let addresses = resolve(host)
        isRemote = !Self.isLoopback(host)
        reachableHost = isRemote ? host : "127.0.0.1"
        unresolvable = addresses.isEmpty
        if let chosen = settings.publishAddress {
            publishAddress = chosen
        } else {
            publishAddress = isRemote ? addresses.first ?? "0.0.0.0" : "127.0.0.1"
        }
    }

    /// `ssh -G`'s HostName for an ssh:// endpoint.
    public static func sshHostName(_ connection: EngineConnection) -> String? {
        guard case .ssh(let user, let host, let port) = connection.endpoint else { return nil }
        return SSHRelay.configuredHostName(command: connection.sshCommand, user: user, host: host, port: port)
    }

    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// The host to connect to for a port the engine published on `bindingIP`.
    public func host(forBinding bindingIP: String?) -> String {
        let ip = bindingIP ?? ""
        let anywhere = ip.isEmpty || ip == "0.0.0.0" || ip == "::"
        if isRemote { return anywhere || Self.isLoopback(ip) ? reachableHost : ip }
        return anywhere ? "127.0.0.1" : ip
    }

    /// Where this machine reaches `containerPort` of a listed container, if published.
    public func published(_ container: ContainerSummary, _ containerPort: Int) -> (String, Int)? {
        guard let port = container.Ports?.first(where: { $0.PrivatePort == containerPort && $0.PublicPort != nil }),
            let published = port.PublicPort
        else { return nil }
        return (host(forBinding: port.IP), published)
    }

    /// Where this machine reaches `containerPort` of an inspected container, if published.
    public func published(_ container: ContainerInspect, _ containerPort: Int) -> (String, Int)? {
        let bindings = container.NetworkSettings?.Ports?["\(containerPort)/tcp"] ?? nil
        guard let binding = bindings?.first(where: { $0.HostPort.flatMap(Int.init) != nil }),
            let hostPort = binding.HostPort.flatMap(Int.init)
        else { return nil }
        return (host(forBinding: binding.HostIp), hostPort)
    }

    /// Where this machine reaches `containerPort`: its published port; else, on a local rootful
    /// Docker on Linux, the container's own address once a connection to it succeeds.
    public func address(
        of container: ContainerInspect, port containerPort: Int, engine: any ContainerEngine
    ) async -> (String, Int)? {
        if let published = published(container, containerPort) { return published }
        guard !isRemote, Host.system().name == "Linux",
            let address = container.NetworkSettings?.Networks?.values.compactMap(\.IPAddress).first(where: {
                !$0.isEmpty
            }),
            let identity = try? await engine.identity(), identity.kind == .docker, !identity.rootless,
            !(identity.operatingSystem ?? "").contains("Desktop")
        else { return nil }
        let answers =
            (try? await offCooperativePool {
                Sockets.connect(host: address, port: containerPort, timeout: 0.5) != nil
            }) ?? false
        return answers ? (address, containerPort) : nil
    }
}

extension Stack {
    /// The stack as devenv publishes it on this engine: PostgreSQL and Redis services that
    /// publish nothing for their server get a port the engine chooses (devenv connects to them
    /// from this machine), bound to `endpoints.publishAddress`; on a remote engine, ports the
    /// file binds to loopback bind to that address instead, since the engine's loopback is not
    /// this machine's.
    public func reachable(from endpoints: HostEndpoints) -> Stack {
        var copy = self
        copy.services = services.map { service in
            var service = service
            if endpoints.isRemote {
                for index in service.ports.indices where HostEndpoints.isLoopback(service.ports[index].hostIP) {
                    service.ports[index].hostIP = endpoints.publishAddress
                }
            }
            let port =
                service.kind == .postgres
                ? 5432
                : service.kind == .redis ? 6379 : nil
            if let port, !service.ports.contains(where: { $0.target == port }) {
                service.ports.append(
                    PortMapping(target: port, published: nil, hostIP: endpoints.publishAddress, protocol: "tcp"))
            }
            return service
        }
        return copy
    }
}
