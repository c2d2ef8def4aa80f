import Crypto
import DevEnvModel
import DevEnvProvisioning
import DevEnvRuntime
import DevEnvSamples
import DockerEngine
import Foundation

/// A container definition in parts, each hashed, carried on the container as a label
/// (`dev.devenv.config-parts`) so a later `plan` or `up` can say what changed, not only that
/// something did. Environment variables are hashed one by one (their names are shown, never
/// their values; the values are in the container's own definition anyway).
public struct ConfigParts: Codable, Sendable, Equatable {
    /// The image ID the container was made from.
    public var image: String
    /// Part name → hash: command, entrypoint, ports, volumes, networks, labels, healthcheck,
    /// restart, other.
    public var parts: [String: String]
    /// Variable name → hash of its value.
    public var environment: [String: String]

    public static let label = "dev.devenv.config-parts"

    static func hash(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data()
        return String(SHA256.hash(data: data).hexadecimal.prefix(16))
    }

    /// The parts of `config` (before network IDs are attached), with `extraNetworks` and the
    /// user's own `labels` (not devenv's bookkeeping ones).
    init(
        config: ContainerConfig, imageID: String, extraNetworks: [(name: String, aliases: [String])],
        labels: [String: String]
    ) {
        image = imageID
        let host = config.HostConfig
        struct Ports: Encodable {
            var exposed: [String]
            var bindings: [String: [PortBinding]]?
        }
        struct Other: Encodable {
            var workingDir, user, hostname, stopSignal: String?
            var stopTimeout: Int?
            var tty, openStdin, initProcess: Bool?
            var extraHosts: [String]?
            var domainname: String?
        }
        struct Runtime: Encodable {
            var capAdd, capDrop, securityOpt, dns, dnsSearch, dnsOptions: [String]?
            var ulimits: [Ulimit]?
            var sysctls, tmpfs: [String: String]?
            var devices: [DeviceMapping]?
            var ipc, pid: String?
            var privileged, readOnly: Bool?
            var shmSize, memory, nanoCPUs: Int64?
        }
        struct Networks: Encodable {
            var mode: String?
            var config: NetworkingConfig?
            var extra: [String]
        }
        parts = [
            "command": Self.hash(config.Cmd),
            "entrypoint": Self.hash(config.Entrypoint),
            "ports": Self.hash(
                Ports(exposed: (config.ExposedPorts ?? [:]).keys.sorted(), bindings: host?.PortBindings)),
            "volumes": Self.hash([Self.hash(host?.Binds), Self.hash(host?.Mounts)]),
            "networks": Self.hash(
                Networks(
                    mode: host?.NetworkMode, config: config.NetworkingConfig,
                    extra: extraNetworks.map { "\($0.name)=\($0.aliases.joined(separator: ","))" })),
            "labels": Self.hash(labels),
            "healthcheck": Self.hash(config.Healthcheck),
            "restart": Self.hash(host?.RestartPolicy),
            "other": Self.hash(
                Other(
                    workingDir: config.WorkingDir, user: config.User, hostname: config.Hostname,
                    stopSignal: config.StopSignal, stopTimeout: config.StopTimeout, tty: config.Tty,
                    openStdin: config.OpenStdin, initProcess: host?.Init, extraHosts: host?.ExtraHosts,
                    domainname: config.Domainname)),
        ]
        let runtime = Runtime(
            capAdd: host?.CapAdd, capDrop: host?.CapDrop, securityOpt: host?.SecurityOpt, dns: host?.Dns,
            dnsSearch: host?.DnsSearch, dnsOptions: host?.DnsOptions,
            ulimits: host?.Ulimits, sysctls: host?.Sysctls, tmpfs: host?.Tmpfs, devices: host?.Devices,
            ipc: host?.IpcMode, pid: host?.PidMode, privileged: host?.Privileged, readOnly: host?.ReadonlyRootfs,
            shmSize: host?.ShmSize,
            memory: host?.Memory, nanoCPUs: host?.NanoCpus)
        // Recorded only when set, so containers made before these keys existed compare equal.
        let runtimeHash = Self.hash(runtime)
        if runtimeHash != Self.hash(Runtime()) { parts["runtime"] = runtimeHash }
        var environment: [String: String] = [:]
        for entry in config.Env ?? [] {
            let name = entry.split(separator: "=", maxSplits: 1).first.map(String.init) ?? entry
            environment[name] = Self.hash(entry)
        }
        self.environment = environment
    }

    /// The label's value.
    var encoded: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// Read back from a container's labels; nil for a container made by an earlier devenv.
    static func of(_ labels: [String: String]?) -> ConfigParts? {
        guard let text = labels?[label] else { return nil }
        return try? JSONDecoder().decode(ConfigParts.self, from: Data(text.utf8))
    }

    static let partNames: [(String, String)] = [
        ("command", "command"), ("entrypoint", "entrypoint"), ("ports", "ports"), ("volumes", "volumes"),
        ("networks", "networks"), ("labels", "labels"), ("healthcheck", "healthcheck"),
        ("restart", "restart policy"),
        (
            "other",
            "other settings (working_dir, user, hostname, domainname, stop_signal, stop_grace_period, tty, init, extra_hosts)"
        ),
        ("files", "secrets and configs"),
        (
            "runtime",
            "runtime settings (cap_add, cap_drop, security_opt, ulimits, sysctls, shm_size, tmpfs, devices, ipc, pid, privileged, read_only, mem_limit, cpus, dns, dns_search, dns_opt)"
        ),
    ]

    /// What changed from `old` to `self`, in words: variable names (never values), the image
    /// IDs, the parts by name.
    func changes(from old: ConfigParts?) -> [String] {
        guard let old else {
            return ["its definition changed (the container was made by an earlier devenv, which did not record how)"]
        }
        var reasons: [String] = []
        if old.image != image {
            reasons.append("image: now \(Self.short(image)) (was \(Self.short(old.image)))")
        }
        let added = environment.keys.filter { old.environment[$0] == nil }.sorted()
        let removed = old.environment.keys.filter { environment[$0] == nil }.sorted()
        let changed = environment.keys.filter { old.environment[$0] != nil && old.environment[$0] != environment[$0] }
            .sorted()
        var environmentChanges: [String] = []
        if !changed.isEmpty { environmentChanges.append("\(changed.joined(separator: ", ")) changed") }
        if !added.isEmpty { environmentChanges.append("\(added.joined(separator: ", ")) added") }
        if !removed.isEmpty { environmentChanges.append("\(removed.joined(separator: ", ")) removed") }
        if !environmentChanges.isEmpty { reasons.append("environment: " + environmentChanges.joined(separator: "; ")) }
        for (key, name) in Self.partNames where old.parts[key] != parts[key] {
            reasons.append("\(name) changed")
        }
        return reasons
    }

    /// `sha256:` and the first 12 hex digits.
    static func short(_ id: String) -> String {
        guard !id.isEmpty else { return "no image yet" }
        let hex = id.hasPrefix("sha256:") ? String(id.dropFirst(7)) : id
        return "sha256:" + hex.prefix(12)
    }
}
