import Crypto
import DevEnvModel
import DevEnvProvisioning
import DevEnvRuntime
import DevEnvSamples
import DockerEngine
import Foundation

/// Runs redis-server with `requirepass` read on stdin (`-`): a here-document (the shell
/// expands the variable once, into the document, never into an argument), and `exec`, so
/// redis-server replaces the shell as PID 1 and gets `docker stop`'s SIGTERM (a pipeline would
/// leave the shell as PID 1, which ignores it, and `down` would wait 10 s). The password is in
/// Redis's own quoted form (`redisQuoted`), so no character of it can end the line or the
/// argument and add configuration.
let redisWrapper = """
    conf=""; case "$1" in *.conf) conf=$1; shift ;; esac
    exec docker-entrypoint.sh redis-server - "$@" <<DEVENV_REDIS_CONFIG
    $(if [ -n "$conf" ]; then cat "$conf"; fi)
    requirepass $DEVENV_REDIS_REQUIREPASS
    DEVENV_REDIS_CONFIG
    """

/// A value as one double-quoted argument of Redis's configuration: `\` and `"` escaped, and
/// every byte that is not printable ASCII as `\xHH` (Redis reads all of them back).
func redisQuoted(_ value: String) -> String {
    var quoted = "\""
    for byte in value.utf8 {
        switch byte {
        case UInt8(ascii: "\\"): quoted += "\\\\"
        case UInt8(ascii: "\""): quoted += "\\\""
        case 0x20...0x7e: quoted.append(Character(UnicodeScalar(byte)))
        default: quoted += String(format: "\\x%02x", byte)
        }
    }
    return quoted + "\""
}

/// The arguments after `redis-server` (a `.conf` first, options after), or `nil` when the
/// command is something else (then devenv leaves it alone).
func redisArguments(_ command: [String]?) -> [String]? {
    guard let command, let first = command.first else { return [] }
    if first == "redis-server" { return Array(command.dropFirst()) }
    if first.hasPrefix("-") || first.hasSuffix(".conf") { return command }
    return nil
}

/// Everything `up` needs to create one service's container, and the hash that tells whether
/// an existing container still matches.
public struct ContainerPlan: Sendable {
    public var service: String
    public var containerName: String
    public var config: ContainerConfig
    /// The container as the service's own image would make it, when `config` uses a cached
    /// initialized cluster: what `up` creates if that image has gone meanwhile.
    public var withoutInitCache: ContainerConfig?
    /// Networks beyond the first (connected after create), with aliases.
    public var extraNetworks: [(name: String, aliases: [String])]
    public var configHash: String
    /// Secrets and configs, written into the container after create and before start.
    public var files: [ContainerFile] = []
    /// The definition in parts, to say what changed (also on the container as a label).
    public var parts: ConfigParts {
        ConfigParts.of(config.Labels) ?? ConfigParts(config: config, imageID: "", extraNetworks: [], labels: [:])
    }

    /// Builds the plan. `environment` is the service's environment with `x-devenv.env` filled in;
    /// `imageID` is the local image's ID, so a rebuilt image changes the hash.
    /// `extraLabels` (an ephemeral project's owner and expiry) are set after hashing: they say
    /// who owns a container, not what it is.
    public static func make(
        service: Service, stack: Stack, environment: [String: String], imageID: String,
        extraLabels: [String: String] = [:], files: [ContainerFile] = []
    ) -> ContainerPlan {
        var config = ContainerConfig(image: service.imageReference(project: stack.name))
        config.Cmd = service.command
        config.Entrypoint = service.entrypoint
        if service.devenv?.redis?.password != nil, service.entrypoint == nil,
            let arguments = redisArguments(service.command)
        {
            // The password reaches redis-server as configuration on stdin (with the user's
            // .conf, if any, in front), never on a command line the engine or `ps` shows.
            config.Entrypoint = ["sh", "-c", redisWrapper, "devenv-redis"]
            config.Cmd = arguments
        }
        var environment = environment
        if config.Entrypoint == ["sh", "-c", redisWrapper, "devenv-redis"] {
            environment["DEVENV_REDIS_REQUIREPASS"] = redisQuoted(environment["REDIS_PASSWORD"] ?? "")
        }
        config.Env = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        config.WorkingDir = service.workingDir
        config.User = service.user
        config.Hostname = service.hostname
        config.StopSignal = service.stopSignal
        config.StopTimeout = service.stopGracePeriod.map { Int($0.rounded(.up)) }
        config.Tty = service.tty ? true : nil
        config.OpenStdin = service.stdinOpen ? true : nil
        var exposed: [String: EmptyObject] = [:]
        for port in service.expose { exposed[port.contains("/") ? port : "\(port)/tcp"] = EmptyObject() }
        for port in service.ports { exposed["\(port.target)/\(port.protocol)"] = EmptyObject() }
        config.ExposedPorts = exposed.isEmpty ? nil : exposed
        if let check = service.healthcheck {
            func nanos(_ seconds: Double?) -> Int64? { seconds.map { Int64($0 * 1_000_000_000) } }
            config.Healthcheck = HealthConfig(
                test: check.test, interval: nanos(check.interval), timeout: nanos(check.timeout),
                retries: check.retries,
                startPeriod: nanos(check.startPeriod), startInterval: nanos(check.startInterval))
        }

        var host = HostConfig()
        var bindings: [String: [PortBinding]] = [:]
        for port in service.ports {
            bindings["\(port.target)/\(port.protocol)", default: []].append(
                PortBinding(hostIP: port.hostIP, hostPort: port.published.map(String.init) ?? ""))
        }
        host.PortBindings = bindings.isEmpty ? nil : bindings
        var binds: [String] = []
        var mounts: [Mount] = []
        for volume in service.volumes {
            switch volume.type {
            case .bind:
                let options = [volume.readOnly ? "ro" : nil, volume.selinux, volume.propagation].compactMap { $0 }
                binds.append(
                    "\(volume.source ?? ""):\(volume.target)"
                        + (options.isEmpty ? "" : ":" + options.joined(separator: ",")))
            case .volume:
                let engineName = volume.source.flatMap { name in stack.volumes.first { $0.name == name }?.engineName }
                mounts.append(
                    Mount(type: "volume", source: engineName, target: volume.target, readOnly: volume.readOnly))
            case .tmpfs:
                mounts.append(Mount(type: "tmpfs", source: nil, target: volume.target))
            }
        }
        host.Binds = binds.isEmpty ? nil : binds
        host.Mounts = mounts.isEmpty ? nil : mounts
        if let restart = service.restart, restart != "no" {
            let parts = restart.split(separator: ":")
            host.RestartPolicy = RestartPolicy(
                name: String(parts[0]), maximumRetryCount: parts.count > 1 ? Int(parts[1]) : nil)
        }
        host.Init = service.initProcess
        host.ExtraHosts = service.extraHosts.isEmpty ? nil : service.extraHosts
        applyRuntimeOptions(of: service, stack: stack, to: &host)
        config.Domainname = service.domainname

        // The first network is given at create; the others are connected before start.
        let networks = service.networks.keys.sorted { ($0 == "default" ? "" : $0) < ($1 == "default" ? "" : $1) }
        func engineName(_ network: String) -> String {
            stack.networks.first { $0.name == network }?.engineName ?? "\(stack.name)_\(network)"
        }
        func containerName(_ name: String) -> String {
            stack.service(name)?.containerName ?? "\(stack.name)-\(name)-1"
        }
        var extra: [(name: String, aliases: [String])] = []
        if let mode = service.networkMode {
            // Another network stack (the host's, none, another container's): no networks of ours.
            host.NetworkMode =
                mode.hasPrefix("service:")
                ? "container:" + containerName(String(mode.dropFirst("service:".count))) : mode
        } else {
            let first = networks.first ?? "default"
            host.NetworkMode = engineName(first)
            // A link alias (`links: [THIS:ALIAS]` in another service) is an alias of this one on
            // its networks: every engine resolves those (Podman ignores legacy endpoint links).
            let linked = stack.services.flatMap { other in
                (other.links ?? []).compactMap { link -> String? in
                    let parts = link.split(separator: ":").map(String.init)
                    return parts.count == 2 && parts[0] == service.name ? parts[1] : nil
                }
            }
            func aliases(_ network: String) -> [String] {
                var all = [service.name] + (service.networks[network] ?? [])
                for alias in linked where !all.contains(alias) { all.append(alias) }
                return all
            }
            config.NetworkingConfig = NetworkingConfig(endpoints: [
                engineName(first): EndpointSettings(aliases: aliases(first))
            ])
            extra = networks.dropFirst().map { (name: engineName($0), aliases: aliases($0)) }
        }
        config.HostConfig = host

        var labels = service.labels
        labels[ProjectLabel.project] = stack.name
        labels[ProjectLabel.service] = service.name
        labels[ProjectLabel.containerNumber] = "1"
        labels[ProjectLabel.oneoff] = "False"
        labels[ProjectLabel.workingDir] = stack.workingDirectory
        labels[ProjectLabel.configFiles] = stack.files.joined(separator: ",")
        labels[ProjectLabel.managed] = "true"
        labels[ProjectLabel.imageID] = imageID
        config.Labels = labels

        // The hash covers the whole container definition (labels included, except the hash
        // itself and the file list, which may be spelled differently for the same stack).
        var hashed = config
        hashed.Labels?[ProjectLabel.configFiles] = nil
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var material = (try? encoder.encode(hashed)) ?? Data()
        material.append(
            contentsOf: extra.map { "\($0.name)=\($0.aliases.joined(separator: ","))" }.joined(separator: ";").utf8)
        // Files by digest: a changed secret recreates the container; its value is never a label.
        if !files.isEmpty { material.append(contentsOf: files.map(\.digest).joined(separator: ";").utf8) }
        let hash = SHA256.hash(data: material).hexadecimal
        config.Labels?[ProjectLabel.configHash] = hash
        var parts = ConfigParts(config: config, imageID: imageID, extraNetworks: extra, labels: service.labels)
        if !files.isEmpty { parts.parts["files"] = ConfigParts.hash(files.map(\.digest)) }
        config.Labels?[ConfigParts.label] = parts.encoded
        config.Labels?.merge(extraLabels) { $1 }

        return ContainerPlan(
            service: service.name, containerName: service.containerName ?? "\(stack.name)-\(service.name)-1",
            config: config,
            extraNetworks: extra, configHash: hash, files: files)
    }

    /// The files as one tar archive rooted at `/`, for the engine's archive endpoint.
    public func filesArchive() throws -> Data {
        var archive = TarArchive()
        for file in files {
            try archive.addFile(
                String(file.path.drop { $0 == "/" }), file.contents, mode: file.mode, uid: file.uid, gid: file.gid)
        }
        return archive.data()
    }

    /// The plan with networks named by engine ID, so a duplicate network name cannot make the
    /// engine refuse the container. The hash is unchanged: it describes the stack, not the IDs.
    public func attached(to networkIDs: [String: String]) -> ContainerPlan {
        func attach(_ config: ContainerConfig) -> ContainerConfig {
            var copy = config
            if let mode = config.HostConfig?.NetworkMode, let id = networkIDs[mode] {
                copy.HostConfig?.NetworkMode = id
                if let endpoint = config.NetworkingConfig?.EndpointsConfig?[mode] {
                    copy.NetworkingConfig = NetworkingConfig(endpoints: [id: endpoint])
                }
            }
            return copy
        }
        var copy = self
        copy.config = attach(config)
        copy.withoutInitCache = withoutInitCache.map(attach)
        copy.extraNetworks = extraNetworks.map { (name: networkIDs[$0.name] ?? $0.name, aliases: $0.aliases) }
        return copy
    }
}

/// A file put into a container before it starts: a secret or config's contents.
public struct ContainerFile: Sendable, Equatable {
    /// Absolute path in the container.
    public var path: String
    public var contents: Data
    public var mode: Int
    public var uid: Int
    public var gid: Int

    public init(path: String, contents: Data, mode: Int = 0o444, uid: Int = 0, gid: Int = 0) {
        self.path = path
        self.contents = contents
        self.mode = mode
        self.uid = uid
        self.gid = gid
    }

    /// Where it goes, with whom and how, and a hash of what it holds (never the contents).
    var digest: String {
        "\(path) \(String(mode, radix: 8)) \(uid):\(gid) \(SHA256.hash(data: contents).hexadecimal)"
    }
}

extension ContainerPlan {
    /// Whether the container asks for settings some engines accept and then leave out
    /// (rootless Podman on cgroup v1 takes no resource limits, ulimits or domain name).
    var asksForRuntimeSettings: Bool {
        let host = config.HostConfig
        return host?.Memory != nil || host?.NanoCpus != nil || host?.ShmSize != nil || host?.Ulimits != nil
            || host?.Sysctls != nil || config.Domainname != nil || host?.PidsLimit != nil
            || host?.MemoryReservation != nil || host?.MemorySwap != nil || host?.CpuShares != nil
            || host?.CpusetCpus != nil
    }

    /// The Compose keys whose settings the engine's record of the container does not hold.
    func unappliedSettings(in actual: ContainerInspect) -> [String] {
        let wanted = config.HostConfig
        let got = actual.HostConfig
        var missing: [String] = []
        if let memory = wanted?.Memory, got?.Memory != memory { missing.append("mem_limit") }
        if let cpus = wanted?.NanoCpus, got?.NanoCpus != cpus { missing.append("cpus") }
        if let size = wanted?.ShmSize, got?.ShmSize != size { missing.append("shm_size") }
        if let limits = wanted?.Ulimits, !limits.allSatisfy({ (got?.Ulimits ?? []).contains($0) }) {
            missing.append("ulimits")
        }
        if let sysctls = wanted?.Sysctls, !sysctls.allSatisfy({ got?.Sysctls?[$0.key] == $0.value }) {
            missing.append("sysctls")
        }
        if let domain = config.Domainname, actual.Config?.Domainname != domain { missing.append("domainname") }
        for (key, asked, kept) in [
            ("pids_limit", wanted?.PidsLimit, got?.PidsLimit),
            ("mem_reservation", wanted?.MemoryReservation, got?.MemoryReservation),
            ("memswap_limit", wanted?.MemorySwap, got?.MemorySwap), ("cpu_shares", wanted?.CpuShares, got?.CpuShares),
        ] where asked != nil && asked != kept {
            missing.append(key)
        }
        if let cpuset = wanted?.CpusetCpus, got?.CpusetCpus != cpuset { missing.append("cpuset") }
        return missing
    }

    /// Privileges, limits, kernel parameters, devices, tmpfs and namespaces, as the file says.
    /// `service:NAME` namespaces name that service's container.
    static func applyRuntimeOptions(of service: Service, stack: Stack, to host: inout HostConfig) {
        host.CapAdd = service.capAdd
        host.CapDrop = service.capDrop
        host.SecurityOpt = service.securityOpt
        host.Ulimits = service.ulimits?.sorted { $0.key < $1.key }.map {
            Ulimit(name: $0.key, soft: $0.value.soft, hard: $0.value.hard)
        }
        host.Sysctls = service.sysctls
        host.ShmSize = service.shmSize
        if let tmpfs = service.tmpfs {
            var mounts: [String: String] = [:]
            for entry in tmpfs {
                let parts = entry.split(separator: ":", maxSplits: 1).map(String.init)
                mounts[parts[0]] = parts.count > 1 ? parts[1] : ""
            }
            host.Tmpfs = mounts
        }
        host.Devices = service.devices?.compactMap(StackParser.deviceMapping).map {
            DeviceMapping(host: $0.host, container: $0.container, permissions: $0.permissions)
        }
        func namespace(_ mode: String?) -> String? {
            guard let mode, mode.hasPrefix("service:") else { return mode }
            let name = String(mode.dropFirst("service:".count))
            let other = stack.services.first { $0.name == name }
            return "container:" + (other?.containerName ?? "\(stack.name)-\(name)-1")
        }
        host.IpcMode = namespace(service.ipc)
        host.PidMode = namespace(service.pid)
        host.Privileged = service.privileged
        host.Memory = service.memLimit
        host.NanoCpus = service.cpus.map { Int64(($0 * 1e9).rounded()) }
        host.Dns = service.dns
        host.DnsSearch = service.dnsSearch
        host.DnsOptions = service.dnsOpt
        host.ReadonlyRootfs = service.readOnly
        host.PidsLimit = service.pidsLimit
        host.MemoryReservation = service.memReservation
        host.MemorySwap = service.memswapLimit
        host.CpuShares = service.cpuShares
        host.CpusetCpus = service.cpuset
        host.OomScoreAdj = service.oomScoreAdj
        host.GroupAdd = service.groupAdd
    }
}
