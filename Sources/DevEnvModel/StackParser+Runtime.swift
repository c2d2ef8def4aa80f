import Foundation

/// The Compose keys that set how the engine runs a service's container: privileges, resource
/// limits, kernel parameters, devices, tmpfs mounts and shared namespaces. Each is passed to the
/// engine as written; none is dropped.
extension StackParser {
    mutating func runtimeOptions(_ node: YAMLNode, what: String, into service: inout Service) {
        if let value = node["cap_add"] { service.capAdd = stringList(value, "\(what).cap_add") }
        if let value = node["cap_drop"] { service.capDrop = stringList(value, "\(what).cap_drop") }
        if let value = node["security_opt"] { service.securityOpt = stringList(value, "\(what).security_opt") }
        if let value = node["ulimits"] { service.ulimits = ulimits(value, "\(what).ulimits") }
        if let value = node["sysctls"] {
            var sysctls: [String: String] = [:]
            for (key, setting) in keyValues(value, "\(what).sysctls") {
                guard let setting else {
                    error("\(what).sysctls.\(key) needs a value", value)
                    continue
                }
                sysctls[key] = setting
            }
            service.sysctls = sysctls
        }
        if let value = node["shm_size"] { service.shmSize = byteSize(value, "\(what).shm_size") }
        if let value = node["tmpfs"] {
            let paths =
                value.sequence != nil ? stringList(value, "\(what).tmpfs") : string(value, "\(what).tmpfs").map { [$0] }
            for path in paths ?? [] where !path.hasPrefix("/") {
                error("\(what).tmpfs must be absolute paths in the container, found '\(path)'", value)
            }
            service.tmpfs = paths
        }
        if let value = node["devices"] {
            service.devices = stringList(value, "\(what).devices")
            for device in service.devices ?? [] where Self.deviceMapping(device) == nil {
                error("'\(device)' in \(what).devices is not HOST_PATH[:CONTAINER_PATH[:PERMISSIONS]]", value)
            }
        }
        for key in ["ipc", "pid"] {
            guard let value = node[key], let mode = string(value, "\(what).\(key)") else { continue }
            if key == "ipc" { service.ipc = mode } else { service.pid = mode }
            // `service:NAME` shares that service's namespace, so it must run first.
            if mode.hasPrefix("service:") {
                dependOn(String(mode.dropFirst("service:".count)), service: &service)
            } else if !["host", "private", "shareable", "none", ""].contains(mode), !mode.hasPrefix("container:") {
                error(
                    "\(what).\(key) must be host, private, \(key == "ipc" ? "shareable, none, " : "")service:NAME or container:NAME, found '\(mode)'",
                    value)
            }
        }
        if let value = node["privileged"] { service.privileged = bool(value, "\(what).privileged") }
        if let value = node["mem_limit"] { service.memLimit = byteSize(value, "\(what).mem_limit") }
        if let value = node["cpus"] { service.cpus = cpus(value, "\(what).cpus") }
        if let value = node["pids_limit"] {
            service.pidsLimit = int(value, "\(what).pids_limit", range: -1...4_194_304).map(Int64.init)
        }
        if let value = node["mem_reservation"] { service.memReservation = byteSize(value, "\(what).mem_reservation") }
        if let value = node["memswap_limit"] {
            service.memswapLimit = value.scalar == "-1" ? -1 : byteSize(value, "\(what).memswap_limit")
        }
        if let value = node["cpu_shares"] {
            service.cpuShares = int(value, "\(what).cpu_shares", range: 2...262_144).map(Int64.init)
        }
        if let value = node["cpuset"] {
            service.cpuset = string(value, "\(what).cpuset")
            if let set = service.cpuset,
                set.range(of: #"^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$"#, options: .regularExpression) == nil
            {
                error("\(what).cpuset: expected CPUs such as 0-1 or 0,2, found '\(set)'", value)
            }
        }
        if let value = node["oom_score_adj"] {
            service.oomScoreAdj = int(value, "\(what).oom_score_adj", range: -1000...1000)
        }
        if let value = node["group_add"] {
            service.groupAdd = (value.sequence ?? []).compactMap { item in string(item, "an item of \(what).group_add")
            }
            if value.sequence == nil { expect("\(what).group_add", "a list of group names or numbers", value) }
        }
        if let limit = service.memswapLimit, limit != -1, let memory = service.memLimit, limit < memory {
            error(
                "\(what).memswap_limit must be at least mem_limit (it counts memory and swap together)",
                node["memswap_limit"]!)
        }
        if let value = node["dns"] {
            service.dns =
                value.sequence != nil ? stringList(value, "\(what).dns") : string(value, "\(what).dns").map { [$0] }
        }
        if let value = node["dns_search"] {
            service.dnsSearch =
                value.sequence != nil
                ? stringList(value, "\(what).dns_search") : string(value, "\(what).dns_search").map { [$0] }
        }
        if let value = node["dns_opt"] { service.dnsOpt = stringList(value, "\(what).dns_opt") }
        if let value = node["read_only"] { service.readOnly = bool(value, "\(what).read_only") }
        if let value = node["domainname"] { service.domainname = string(value, "\(what).domainname") }
        if let value = node["scale"], let count = int(value, "\(what).scale"), count != 1 {
            error("\(what).scale is \(count); devenv runs one container per service", value)
        }
        if let value = node["deploy"] { deploy(value, what: "\(what).deploy", into: &service) }
    }

    /// `network_mode:` (instead of the stack's networks) and `links:` (a dependency, and an
    /// alias when written `SERVICE:ALIAS`).
    mutating func networkMode(_ node: YAMLNode, what: String, into service: inout Service) {
        if let value = node["network_mode"], let mode = string(value, "\(what).network_mode") {
            if node["networks"] != nil {
                error("\(what) has both network_mode and networks; keep one", value)
            }
            if mode.hasPrefix("service:") {
                dependOn(String(mode.dropFirst("service:".count)), service: &service)
            } else if !["host", "none", "bridge"].contains(mode), !mode.hasPrefix("container:") {
                error(
                    "\(what).network_mode must be host, none, bridge, service:NAME or container:NAME, found '\(mode)'",
                    value)
            }
            service.networkMode = mode
            service.networks = [:]
        }
        if let value = node["links"] {
            service.links = stringList(value, "\(what).links")
            for link in service.links ?? [] {
                let parts = link.split(separator: ":", omittingEmptySubsequences: false)
                guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else {
                    error("'\(link)' in \(what).links is not SERVICE or SERVICE:ALIAS", value)
                    continue
                }
                dependOn(String(parts[0]), service: &service)
            }
        }
    }

    /// `service` starts after `other` (a shared namespace or a link needs it running).
    func dependOn(_ other: String, service: inout Service) {
        if !service.dependsOn.contains(where: { $0.service == other }) {
            service.dependsOn.append(Dependency(service: other, condition: .started, required: true))
        }
    }

    /// `deploy:` on one machine: the resource limits apply to the container; reservations and
    /// placement cannot change what runs here; more than one replica is refused.
    mutating func deploy(_ node: YAMLNode, what: String, into service: inout Service) {
        guard let entries = node.mapping else {
            if !node.isNull { expect(what, "a mapping", node) }
            return
        }
        for entry in entries {
            switch entry.key {
            case "replicas":
                if let count = int(entry.value, "\(what).replicas"), count != 1 {
                    error("\(what).replicas is \(count); devenv runs one container per service", entry.value)
                }
            case "resources":
                guard let resources = entry.value.mapping else {
                    expect("\(what).resources", "a mapping", entry.value)
                    continue
                }
                for resource in resources {
                    if resource.key == "limits" {
                        limits(resource.value, what: "\(what).resources.limits", into: &service)
                    } else {
                        context.warnings.append(
                            .warning(
                                "\(what).resources.\(resource.key) is ignored: devenv applies only limits",
                                at: resource.keyLocation))
                    }
                }
            case "restart_policy", "mode":
                context.errors.append(
                    .error(
                        "\(what).\(entry.key) is not supported by devenv; use the service's restart: key",
                        at: entry.keyLocation))
            default:
                context.warnings.append(
                    .warning(
                        "\(what).\(entry.key) is about a cluster and is ignored on one machine", at: entry.keyLocation))
            }
        }
    }

    mutating func limits(_ node: YAMLNode, what: String, into service: inout Service) {
        guard let entries = node.mapping else {
            expect(what, "a mapping", node)
            return
        }
        for entry in entries {
            switch entry.key {
            case "memory":
                let bytes = byteSize(entry.value, "\(what).memory")
                if let bytes, let given = service.memLimit, given != bytes {
                    error("\(what).memory and mem_limit disagree; keep one", entry.value)
                }
                service.memLimit = bytes ?? service.memLimit
            case "cpus":
                let count = cpus(entry.value, "\(what).cpus")
                if let count, let given = service.cpus, given != count {
                    error("\(what).cpus and cpus disagree; keep one", entry.value)
                }
                service.cpus = count ?? service.cpus
            case "pids":
                let limit = int(entry.value, "\(what).pids", range: -1...4_194_304).map(Int64.init)
                if let limit, let given = service.pidsLimit, given != limit {
                    error("\(what).pids and pids_limit disagree; keep one", entry.value)
                }
                service.pidsLimit = limit ?? service.pidsLimit
            default:
                context.errors.append(
                    .error(
                        "\(what).\(entry.key) is not supported by devenv; only memory, cpus and pids are",
                        at: entry.keyLocation))
            }
        }
    }

    mutating func ulimits(_ node: YAMLNode, _ what: String) -> [String: ULimitRange]? {
        guard let entries = node.mapping else {
            expect(what, "a mapping of limit names", node)
            return nil
        }
        var result: [String: ULimitRange] = [:]
        for entry in entries {
            if entry.value.mapping != nil {
                guard let soft = entry.value["soft"].flatMap({ int($0, "\(what).\(entry.key).soft") }),
                    let hard = entry.value["hard"].flatMap({ int($0, "\(what).\(entry.key).hard") })
                else {
                    error("\(what).\(entry.key) needs soft and hard", entry.value)
                    continue
                }
                if soft > hard { error("\(what).\(entry.key): soft \(soft) is above hard \(hard)", entry.value) }
                result[entry.key] = ULimitRange(soft: Int64(soft), hard: Int64(hard))
            } else if let both = int(entry.value, "\(what).\(entry.key)") {
                result[entry.key] = ULimitRange(soft: Int64(both), hard: Int64(both))
            }
        }
        return result
    }

    /// A number of CPUs (`1.5`, `"0.5"`), more than zero.
    mutating func cpus(_ node: YAMLNode, _ what: String) -> Double? {
        guard let text = node.scalar, let value = Double(text), value > 0, value <= 4096 else {
            expect(what, "a number of CPUs above zero, such as 0.5 or 2", node)
            return nil
        }
        return value
    }

    /// A byte count as Compose writes one: a number of bytes, or a number with b, k, m or g
    /// (optionally followed by b), in powers of 1024.
    mutating func byteSize(_ node: YAMLNode, _ what: String) -> Int64? {
        guard let text = node.scalar, let bytes = Self.parseByteSize(text) else {
            expect(what, "a size such as 64m, 1g or a number of bytes", node)
            return nil
        }
        return bytes
    }

    package static func parseByteSize(_ text: String) -> Int64? {
        let lowered = text.trimmingCharacters(in: .whitespaces).lowercased()
        let number = lowered.prefix { $0.isNumber || $0 == "." }
        var unit = lowered.dropFirst(number.count)
        if unit.count == 2, unit.hasSuffix("b") { unit = unit.dropLast() }
        let factors: [Substring: Double] = ["": 1, "b": 1, "k": 0x1p10, "m": 0x1p20, "g": 0x1p30, "t": 0x1p40]
        guard let value = Double(number), let factor = factors[unit] else { return nil }
        let bytes = (value * factor).rounded()
        guard bytes >= 0, bytes < 0x1p62 else { return nil }
        return Int64(bytes)
    }

    /// `HOST[:CONTAINER[:PERMISSIONS]]` as the engine takes it.
    package static func deviceMapping(_ text: String) -> (host: String, container: String, permissions: String)? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard (1...3).contains(parts.count), parts[0].hasPrefix("/") else { return nil }
        let container = parts.count > 1 ? parts[1] : parts[0]
        let permissions = parts.count > 2 ? parts[2] : "rwm"
        guard container.hasPrefix("/"), !permissions.isEmpty, permissions.allSatisfy({ "rwm".contains($0) }) else {
            return nil
        }
        return (parts[0], container, permissions)
    }
}
