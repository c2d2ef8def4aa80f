import DevEnvModel
import Foundation

/// A stack as canonical Compose: what `devenv config` prints, and what other Compose tools
/// (docker compose, docker-compose 1.29, podman-compose) read back to the same services.
///
/// Everything is written out in full: services, networks and volumes as mappings, long forms
/// for depends_on, secrets and configs, the short forms every tool reads for ports and mounts,
/// paths absolute, `env_file`, `extends` and `include` already merged, durations as Compose
/// durations. Published ports name their address: devenv binds 127.0.0.1 where a file names
/// none, and the output says what runs.
/// Nothing of devenv's own bookkeeping; the service's `x-devenv` is the file's, normalized.
public enum ComposeDocument {
    public static func value(_ stack: Stack) -> YAMLValue {
        var top: [(String, YAMLValue)] = [("name", .string(stack.name))]
        top.append(("services", .mapping(stack.services.map { ($0.name, service($0, in: stack)) })))
        let networks = stack.networks.map { ($0.name, network($0, project: stack.name)) }
        if !networks.isEmpty { top.append(("networks", .mapping(networks))) }
        let volumes = stack.volumes.map { ($0.name, volume($0, project: stack.name)) }
        if !volumes.isEmpty { top.append(("volumes", .mapping(volumes))) }
        if !stack.secrets.isEmpty { top.append(("secrets", .mapping(stack.secrets.map { ($0.name, source($0)) }))) }
        if !stack.configs.isEmpty { top.append(("configs", .mapping(stack.configs.map { ($0.name, source($0)) }))) }
        return escapingDollars(.mapping(top))
    }

    /// Compose tools interpolate every value they read: a `$` that reached the stack as text
    /// goes out as `$$`, so reading the output back gives the same text.
    static func escapingDollars(_ value: YAMLValue) -> YAMLValue {
        switch value {
        case .string(let text) where text.contains("$"): .string(text.replacingOccurrences(of: "$", with: "$$"))
        case .sequence(let items): .sequence(items.map(escapingDollars))
        case .mapping(let pairs): .mapping(pairs.map { ($0.0, escapingDollars($0.1)) })
        default: value
        }
    }

    static func service(_ service: Service, in stack: Stack) -> YAMLValue {
        var out = Pairs()
        out.add("image", service.image.map(YAMLValue.string))
        if let build = service.build {
            var pairs = Pairs()
            pairs.add("context", .string(build.context))
            pairs.add("dockerfile", .string(build.dockerfile))
            pairs.add("args", stringMap(build.args))
            pairs.add("target", build.target.map(YAMLValue.string))
            out.add("build", .mapping(pairs.items))
        }
        out.add("command", service.command.map(strings))
        out.add("entrypoint", service.entrypoint.map(strings))
        out.add("environment", stringMap(service.environment))
        out.add("ports", list(service.ports.map(port)))
        out.add("expose", stringList(service.expose))
        out.add("volumes", list(service.volumes.map(mount)))
        out.add("depends_on", mapping(service.dependsOn.map(dependency)))
        out.add("healthcheck", service.healthcheck.map(healthcheck))
        out.add("profiles", stringList(service.profiles))
        out.add("restart", service.restart.map(YAMLValue.string))
        out.add("working_dir", service.workingDir.map(YAMLValue.string))
        out.add("user", service.user.map(YAMLValue.string))
        out.add("labels", stringMap(service.labels))
        out.add("pull_policy", service.pullPolicy.map(YAMLValue.string))
        out.add("container_name", service.containerName.map(YAMLValue.string))
        out.add("hostname", service.hostname.map(YAMLValue.string))
        out.add("domainname", service.domainname.map(YAMLValue.string))
        out.add("stop_signal", service.stopSignal.map(YAMLValue.string))
        out.add("stop_grace_period", service.stopGracePeriod.map { .string(duration($0)) })
        if service.tty { out.add("tty", .literal("true")) }
        if service.stdinOpen { out.add("stdin_open", .literal("true")) }
        out.add("init", service.initProcess.map(bool))
        out.add("extra_hosts", stringList(service.extraHosts))
        if let mode = service.networkMode {
            out.add("network_mode", .string(mode))
        } else {
            out.add("networks", networks(service.networks))
        }
        out.add("links", stringList(service.links))
        runtime(service, into: &out)
        out.add("secrets", service.secrets.flatMap { list($0.map(reference)) })
        out.add("configs", service.configs.flatMap { list($0.map(reference)) })
        if let rules = service.watch, !rules.isEmpty {
            let watch = rules.map { rule -> YAMLValue in
                var pairs = Pairs()
                pairs.add("action", .string(rule.action.rawValue))
                pairs.add("path", .string(rule.path))
                pairs.add("target", rule.target.map(YAMLValue.string))
                pairs.add("ignore", stringList(rule.ignore))
                return .mapping(pairs.items)
            }
            out.add("develop", .mapping([("watch", .sequence(watch))]))
        }
        out.add("x-devenv", service.devenv.map(devenv))
        return .mapping(out.items)
    }

    static func runtime(_ service: Service, into out: inout Pairs) {
        out.add("cap_add", stringList(service.capAdd))
        out.add("cap_drop", stringList(service.capDrop))
        out.add("security_opt", stringList(service.securityOpt))
        out.add("privileged", service.privileged.map(bool))
        out.add("read_only", service.readOnly.map(bool))
        if let ulimits = service.ulimits, !ulimits.isEmpty {
            out.add(
                "ulimits",
                .mapping(
                    ulimits.sorted { $0.key < $1.key }.map { name, range in
                        (name, .mapping([("soft", .literal("\(range.soft)")), ("hard", .literal("\(range.hard)"))]))
                    }))
        }
        out.add("sysctls", service.sysctls.flatMap(stringMap))
        out.add("shm_size", service.shmSize.map { .literal("\($0)") })
        out.add("tmpfs", stringList(service.tmpfs))
        out.add("devices", stringList(service.devices))
        out.add("ipc", service.ipc.map(YAMLValue.string))
        out.add("pid", service.pid.map(YAMLValue.string))
        out.add("mem_limit", service.memLimit.map { .literal("\($0)") })
        out.add("cpus", service.cpus.map { .literal(number($0)) })
        out.add("pids_limit", service.pidsLimit.map { .literal("\($0)") })
        out.add("mem_reservation", service.memReservation.map { .literal("\($0)") })
        out.add("memswap_limit", service.memswapLimit.map { .literal("\($0)") })
        out.add("cpu_shares", service.cpuShares.map { .literal("\($0)") })
        out.add("cpuset", service.cpuset.map(YAMLValue.string))
        out.add("oom_score_adj", service.oomScoreAdj.map { .literal("\($0)") })
        out.add("group_add", stringList(service.groupAdd))
        out.add("dns", stringList(service.dns))
        out.add("dns_search", stringList(service.dnsSearch))
        out.add("dns_opt", stringList(service.dnsOpt))
    }

    /// `HOST_IP:[PUBLISHED]:TARGET/PROTOCOL`: the short form, as the long one's `host_ip` is
    /// refused by docker-compose 1.29.
    static func port(_ port: PortMapping) -> YAMLValue {
        let host = port.hostIP.contains(":") ? "[\(port.hostIP)]" : port.hostIP
        return .string("\(host):\(port.published.map(String.init) ?? ""):\(port.target)/\(port.protocol)")
    }

    /// `SOURCE:TARGET[:OPTIONS]` (options `ro`, `z`/`Z`, a propagation, comma-separated), the
    /// form every Compose tool reads (docker-compose 1.29 refuses the long form's `selinux`);
    /// the long form for tmpfs mounts and paths with a colon.
    static func mount(_ mount: VolumeMount) -> YAMLValue {
        let options = [mount.readOnly ? "ro" : nil, mount.selinux, mount.propagation].compactMap { $0 }
        if mount.type != .tmpfs, !mount.target.contains(":"), !(mount.source ?? "").contains(":") {
            let parts: [String?] = [mount.source, mount.target, options.isEmpty ? nil : options.joined(separator: ",")]
            return .string(parts.compactMap { $0 }.joined(separator: ":"))
        }
        var pairs = Pairs()
        pairs.add("type", .string(mount.type.rawValue))
        pairs.add("source", mount.source.map(YAMLValue.string))
        pairs.add("target", .string(mount.target))
        if mount.readOnly { pairs.add("read_only", .literal("true")) }
        if mount.type == .bind, mount.propagation != nil || mount.selinux != nil {
            var bind = Pairs()
            bind.add("propagation", mount.propagation.map(YAMLValue.string))
            bind.add("selinux", mount.selinux.map(YAMLValue.string))
            pairs.add("bind", .mapping(bind.items))
        }
        return .mapping(pairs.items)
    }

    static func dependency(_ dependency: Dependency) -> (String, YAMLValue) {
        var pairs: [(String, YAMLValue)] = [("condition", .string(dependency.condition.rawValue))]
        if !dependency.required { pairs.append(("required", .literal("false"))) }
        return (dependency.service, .mapping(pairs))
    }

    static func healthcheck(_ check: Healthcheck) -> YAMLValue {
        if check.disabled { return .mapping([("disable", .literal("true"))]) }
        var pairs = Pairs()
        pairs.add("test", strings(check.test))
        pairs.add("interval", check.interval.map { .string(duration($0)) })
        pairs.add("timeout", check.timeout.map { .string(duration($0)) })
        pairs.add("retries", check.retries.map { .literal("\($0)") })
        pairs.add("start_period", check.startPeriod.map { .string(duration($0)) })
        pairs.add("start_interval", check.startInterval.map { .string(duration($0)) })
        return .mapping(pairs.items)
    }

    static func networks(_ networks: [String: [String]]) -> YAMLValue? {
        mapping(
            networks.sorted { $0.key < $1.key }.map { name, aliases in
                (name, aliases.isEmpty ? .null : .mapping([("aliases", strings(aliases))]))
            })
    }

    static func network(_ network: NamedNetwork, project: String) -> YAMLValue {
        var pairs = Pairs()
        // The engine's name only where the file chose one: `<project>_<name>` follows `-p`.
        if network.external || network.engineName != "\(project)_\(network.name)" {
            pairs.add("name", .string(network.engineName))
        }
        if network.external { pairs.add("external", .literal("true")) }
        pairs.add("driver", network.driver.map(YAMLValue.string))
        return .mapping(pairs.items)
    }

    static func volume(_ volume: NamedVolume, project: String) -> YAMLValue {
        var pairs = Pairs()
        if volume.external || volume.engineName != "\(project)_\(volume.name)" {
            pairs.add("name", .string(volume.engineName))
        }
        if volume.external { pairs.add("external", .literal("true")) }
        pairs.add("labels", stringMap(volume.labels))
        return .mapping(pairs.items)
    }

    static func source(_ source: FileSource) -> YAMLValue {
        var pairs = Pairs()
        pairs.add("file", source.file.map(YAMLValue.string))
        pairs.add("environment", source.environment.map(YAMLValue.string))
        pairs.add("content", source.content.map(YAMLValue.string))
        return .mapping(pairs.items)
    }

    static func reference(_ reference: FileReference) -> YAMLValue {
        .mapping([
            ("source", .string(reference.source)), ("target", .string(reference.target)),
            ("uid", .string("\(reference.uid)")), ("gid", .string("\(reference.gid)")),
            // Decimal: a leading-zero octal reads differently in YAML 1.1 and 1.2.
            ("mode", .literal("\(reference.mode)")),
        ])
    }

    static func devenv(_ devenv: DevenvExtension) -> YAMLValue {
        var pairs = Pairs()
        pairs.add("env", stringMap(devenv.env))
        for (key, value) in devenv.settings.sorted(by: { $0.key < $1.key }) { pairs.add(key, json(value)) }
        return .mapping(pairs.items)
    }

    static func json(_ value: JSONValue) -> YAMLValue {
        switch value {
        case .string(let text): .string(text)
        case .number(let number): .literal(Self.number(number))
        case .bool(let flag): bool(flag)
        case .null: .null
        case .array(let items): .sequence(items.map(json))
        case .object(let entries): .mapping(entries.sorted { $0.key < $1.key }.map { ($0.key, json($0.value)) })
        }
    }

    /// A Compose duration: `1m30s`, `500ms`, `2h`.
    public static func duration(_ seconds: Double) -> String {
        let milliseconds = Int64((seconds * 1000).rounded())
        if milliseconds % 1000 != 0 { return "\(milliseconds)ms" }
        var rest = milliseconds / 1000
        if rest == 0 { return "0s" }
        var text = ""
        for (unit, size) in [("h", Int64(3600)), ("m", 60), ("s", 1)] where rest >= size {
            text += "\(rest / size)\(unit)"
            rest %= size
        }
        return text
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    static func bool(_ flag: Bool) -> YAMLValue { .literal(flag ? "true" : "false") }
    static func strings(_ items: [String]) -> YAMLValue { .sequence(items.map(YAMLValue.string)) }
    /// A list of strings, left out when there is none.
    static func stringList(_ items: [String]?) -> YAMLValue? { items.flatMap { list($0.map(YAMLValue.string)) } }
    static func list(_ items: [YAMLValue]) -> YAMLValue? { items.isEmpty ? nil : .sequence(items) }
    static func mapping(_ pairs: [(String, YAMLValue)]) -> YAMLValue? { pairs.isEmpty ? nil : .mapping(pairs) }
    static func stringMap(_ map: [String: String]) -> YAMLValue? {
        mapping(map.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
    }

    /// Keys in the order added, absent values left out.
    struct Pairs {
        var items: [(String, YAMLValue)] = []
        mutating func add(_ key: String, _ value: YAMLValue?) {
            if let value { items.append((key, value)) }
        }
    }
}

extension YAMLValue {
    /// The same tree as JSON: keys in their order, literals as JSON numbers and booleans.
    public func json(indent: Int = 0) -> String {
        let pad = String(repeating: "  ", count: indent + 1)
        let end = String(repeating: "  ", count: indent)
        switch self {
        case .string(let text): return Self.jsonString(text)
        case .literal(let text):
            return Double(text) != nil || text == "true" || text == "false" ? text : Self.jsonString(text)
        case .null: return "null"
        case .sequence(let items):
            if items.isEmpty { return "[]" }
            return "[\n" + items.map { pad + $0.json(indent: indent + 1) }.joined(separator: ",\n") + "\n\(end)]"
        case .mapping(let pairs):
            if pairs.isEmpty { return "{}" }
            return "{\n"
                + pairs.map { pad + Self.jsonString($0.0) + ": " + $0.1.json(indent: indent + 1) }
                .joined(separator: ",\n") + "\n\(end)}"
        }
    }

    static func jsonString(_ text: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return (try? encoder.encode(text)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
    }
}
