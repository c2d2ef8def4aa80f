import Foundation

/// Turns the merged, interpolated YAML into a `Stack`, one diagnostic per problem.
package struct StackParser {
    var context: LoadContext
    let projectDirectory: String
    let environment: [String: String]
    let enabledProfiles: Set<String>
    /// Where variables were written (`Stack.locations`).
    var locations: [String: SourceLocation] = [:]
    /// The top-level `secrets:` and `configs:`, parsed before the services that use them.
    var declaredSecrets: [FileSource] = []
    var declaredConfigs: [FileSource] = []

    static let topLevelKeys: Set<String> = ["version", "name", "services", "volumes", "networks", "secrets", "configs"]
    /// Compose keys at the top level that devenv does not act on yet: each would change what
    /// runs, so a file using one is refused rather than run without it.
    static let unsupportedTopLevelKeys: Set<String> = []
    static let serviceKeys: Set<String> = [
        "image", "build", "command", "entrypoint", "environment", "env_file", "ports", "expose", "volumes",
        "depends_on", "healthcheck", "profiles", "restart", "working_dir", "user", "labels", "pull_policy",
        "container_name", "hostname", "stop_signal", "stop_grace_period", "tty", "stdin_open", "init",
        "extra_hosts", "networks", "x-devenv", "cap_add", "cap_drop", "security_opt", "ulimits", "sysctls",
        "shm_size", "tmpfs", "devices", "ipc", "pid", "privileged", "mem_limit", "cpus", "dns", "domainname",
        "deploy", "scale", "dns_search", "dns_opt", "read_only", "secrets", "configs", "network_mode", "links",
        "develop", "pids_limit", "mem_reservation", "memswap_limit", "cpu_shares", "cpuset", "oom_score_adj",
        "group_add",
    ]
    /// Compose keys devenv reads but does not act on, where that cannot change what runs on one
    /// machine (where logs go, the platform of an image already chosen); a warning says so.
    static let ignoredServiceKeys: Set<String> = ["logging", "platform"]
    /// Compose keys of a service devenv does not act on yet, which would change what runs: an
    /// error naming the place, never a silent drop.
    static let unsupportedServiceKeys: Set<String> = [
        "external_links", "volumes_from",
        "userns_mode", "cgroup_parent", "isolation", "runtime", "storage_opt", "mac_address",
        "cpu_quota", "cpu_period", "oom_kill_disable", "blkio_config", "device_cgroup_rules", "gpus", "annotations",
        "attach", "cgroup", "credential_spec", "label_file", "post_start", "pre_stop", "uts",
    ]
    static let devenvKeys: Set<String> = ["env", "postgres", "redis", "django", "seed", "migrate", "settle"]

    init(context: LoadContext, projectDirectory: String, environment: [String: String], enabledProfiles: Set<String>) {
        self.context = context
        self.projectDirectory = projectDirectory
        self.environment = environment
        self.enabledProfiles = enabledProfiles
    }

    // MARK: primitives

    mutating func error(_ message: String, _ node: YAMLNode) {
        context.errors.append(.error(message, at: node.location))
    }

    mutating func expect(_ what: String, _ expected: String, _ node: YAMLNode) {
        error("\(what) must be \(expected), found \(node.typeName)", node)
    }

    mutating func string(_ node: YAMLNode, _ what: String) -> String? {
        guard let text = node.scalar, !node.isNull else {
            expect(what, "a string", node)
            return nil
        }
        return text
    }

    mutating func bool(_ node: YAMLNode, _ what: String) -> Bool? {
        switch node.scalar?.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            expect(what, "true or false", node)
            return nil
        }
    }

    mutating func int(_ node: YAMLNode, _ what: String, range: ClosedRange<Int>? = nil) -> Int? {
        guard let text = node.scalar, let value = Int(text) else {
            expect(what, "a whole number", node)
            return nil
        }
        if let range, !range.contains(value) {
            error("\(what) must be between \(range.lowerBound) and \(range.upperBound), found \(value)", node)
            return nil
        }
        return value
    }

    mutating func stringList(_ node: YAMLNode, _ what: String) -> [String]? {
        guard let items = node.sequence else {
            expect(what, "a list of strings", node)
            return nil
        }
        return items.compactMap { string($0, "an item of \(what)") }
    }

    /// `command:`/`entrypoint:`: a list, or a string split like a shell would (no expansion).
    mutating func commandLine(_ node: YAMLNode, _ what: String) -> [String]? {
        let words: [String]
        if node.sequence != nil {
            guard let list = stringList(node, what) else { return nil }
            words = list
        } else {
            guard let text = string(node, what) else { return nil }
            guard let split = ShellWords.split(text) else {
                error("\(what) has an unclosed quote", node)
                return nil
            }
            words = split
        }
        // The kernel refuses an argument past 128 KiB and runc stalls well before; say so here,
        // before a container is made that cannot start.
        if let long = words.first(where: { $0.utf8.count > Self.argumentLimit }) {
            error(
                "\(what) has an argument of \(long.utf8.count) bytes; at most \(Self.argumentLimit) bytes each (put long scripts in a file)",
                node)
            return nil
        }
        if words.reduce(0, { $0 + $1.utf8.count + 1 }) > Self.commandLimit {
            error("\(what) is longer than \(Self.commandLimit) bytes in all; put it in a file", node)
            return nil
        }
        return words
    }

    /// Bytes one argument of a command may have, and all of them together.
    static let argumentLimit = 32 << 10
    static let commandLimit = 256 << 10

    /// A Go-style duration (`1m30s`, `500ms`) or a number of seconds.
    mutating func duration(_ node: YAMLNode, _ what: String) -> Double? {
        guard let text = node.scalar, let seconds = Self.parseDuration(text) else {
            expect(what, "a duration such as 30s, 1m30s or 500ms", node)
            return nil
        }
        return seconds
    }

    package static func parseDuration(_ text: String) -> Double? {
        if let plain = Double(text) { return plain }
        let units: [(String, Double)] = [
            ("ms", 0.001), ("us", 0.000_001), ("µs", 0.000_001), ("ns", 1e-9), ("h", 3600), ("m", 60), ("s", 1),
        ]
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard !rest.isEmpty else { return nil }
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let (unit, factor) = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
            rest = rest.dropFirst(unit.count)
            total += value * factor
        }
        return total
    }

    /// Mapping or `KEY=VALUE` list; a key without value takes it from the environment (`nil`
    /// when unset there too).
    mutating func keyValues(_ node: YAMLNode, _ what: String) -> [(String, String?)] {
        if let entries = node.mapping {
            return entries.map { entry in
                if entry.value.isNull { return (entry.key, environment[entry.key]) }
                guard let text = entry.value.scalar else {
                    expect("\(what).\(entry.key)", "a string, number or boolean", entry.value)
                    return (entry.key, nil)
                }
                return (entry.key, text)
            }
        }
        guard let items = node.sequence else {
            expect(what, "a mapping or a list of KEY=VALUE", node)
            return []
        }
        return items.compactMap { item in
            guard let text = string(item, "an item of \(what)") else { return nil }
            let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0])
            return (key, parts.count == 2 ? String(parts[1]) : environment[key])
        }
    }

    /// `env_file:` as a path, a list of paths, or a list of `{path, required}`.
    mutating func envFiles(_ node: YAMLNode, _ what: String) -> [(path: String, required: Bool)] {
        guard let items = node.sequence else { return [string(node, what)].compactMap { $0 }.map { ($0, true) } }
        return items.compactMap { item in
            guard let entries = item.mapping else { return string(item, "an item of \(what)").map { ($0, true) } }
            warnUnknownKeys(entries, known: ["path", "required"], unsupported: ["format"], in: what)
            guard let path = item["path"].flatMap({ string($0, "\(what).path") }) else {
                error("an item of \(what) needs a path", item)
                return nil
            }
            return (path, item["required"].flatMap { bool($0, "\(what).required") } ?? true)
        }
    }

    /// Where each key of a mapping or `KEY=VALUE` list is written.
    func keyLocations(_ node: YAMLNode) -> [(String, SourceLocation)] {
        if let entries = node.mapping { return entries.map { ($0.key, $0.keyLocation) } }
        return (node.sequence ?? []).compactMap { item in
            guard let text = item.scalar else { return nil }
            return (String(text.split(separator: "=", maxSplits: 1).first ?? ""), item.location)
        }
    }

    func absolutePath(_ path: String) -> String {
        let expanded = path.hasPrefix("~/") ? NSHomeDirectory() + path.dropFirst(1) : path
        let full = expanded.hasPrefix("/") ? expanded : projectDirectory + "/" + expanded
        return Paths.lexical(full)
    }

    mutating func warnUnknownKeys(
        _ entries: [YAMLEntry], known: Set<String>, ignored: Set<String> = [], unsupported: Set<String> = [],
        in what: String
    ) {
        for entry in entries where !known.contains(entry.key) && !entry.key.hasPrefix("x-") {
            if unsupported.contains(entry.key) {
                context.errors.append(
                    .error(
                        "\(what).\(entry.key) is not supported by devenv yet, and running without it would not be what the file says; remove it, or run this file with docker compose",
                        at: entry.keyLocation))
            } else if ignored.contains(entry.key) {
                context.warnings.append(
                    .warning("\(what).\(entry.key) is not supported by devenv and is ignored", at: entry.keyLocation))
            } else {
                context.warnings.append(
                    .warning("unknown key '\(entry.key)' in \(what) (ignored)", at: entry.keyLocation))
            }
        }
    }

    // MARK: the stack

    mutating func stack(_ root: YAMLNode, name: String, files: [String]) -> (Stack?, [String]) {
        let entries = root.mapping ?? []
        warnUnknownKeys(
            entries, known: Self.topLevelKeys, unsupported: Self.unsupportedTopLevelKeys, in: "the stack file")

        var volumes: [NamedVolume] = []
        if let node = root["volumes"], !node.isNull {
            if let items = node.mapping {
                for item in items {
                    let settings = item.value.isNull ? [] : (item.value.mapping ?? [])
                    if !item.value.isNull && item.value.mapping == nil {
                        expect("volumes.\(item.key)", "a mapping", item.value)
                    }
                    // The engine's own volume driver ("local") is what devenv uses; another one,
                    // or its options, would change where the data lives.
                    warnUnknownKeys(
                        settings.filter { !($0.key == "driver" && $0.value.scalar == "local") },
                        known: ["external", "name", "labels"], unsupported: ["driver", "driver_opts"],
                        in: "volumes.\(item.key)")
                    let external =
                        settings.first { $0.key == "external" }.flatMap {
                            bool($0.value, "volumes.\(item.key).external")
                        } ?? false
                    let explicitName = settings.first { $0.key == "name" }.flatMap {
                        string($0.value, "volumes.\(item.key).name")
                    }
                    let labels =
                        settings.first { $0.key == "labels" }.map { keyValues($0.value, "volumes.\(item.key).labels") }
                        ?? []
                    volumes.append(
                        NamedVolume(
                            name: item.key, external: external,
                            engineName: explicitName ?? (external ? item.key : "\(name)_\(item.key)"),
                            labels: Dictionary(labels.map { ($0.0, $0.1 ?? "") }, uniquingKeysWith: { $1 })))
                }
            } else {
                expect("volumes", "a mapping of volume names", node)
            }
        }

        var networks: [NamedNetwork] = []
        if let node = root["networks"], !node.isNull {
            if let items = node.mapping {
                for item in items {
                    let settings = item.value.mapping ?? []
                    warnUnknownKeys(
                        settings, known: ["external", "name", "driver"], ignored: ["attachable", "labels"],
                        unsupported: ["ipam", "driver_opts", "internal", "enable_ipv6"], in: "networks.\(item.key)")
                    let external =
                        settings.first { $0.key == "external" }.flatMap {
                            bool($0.value, "networks.\(item.key).external")
                        } ?? false
                    let explicitName = settings.first { $0.key == "name" }.flatMap {
                        string($0.value, "networks.\(item.key).name")
                    }
                    let driver = settings.first { $0.key == "driver" }.flatMap {
                        string($0.value, "networks.\(item.key).driver")
                    }
                    networks.append(
                        NamedNetwork(
                            name: item.key, external: external,
                            engineName: explicitName ?? (external ? item.key : "\(name)_\(item.key)"), driver: driver))
                }
            } else {
                expect("networks", "a mapping of network names", node)
            }
        }
        if !networks.contains(where: { $0.name == "default" }) {
            networks.insert(
                NamedNetwork(name: "default", external: false, engineName: "\(name)_default", driver: nil), at: 0)
        }

        var services: [Service] = []
        var serviceNodes: [String: YAMLEntry] = [:]
        var inactive: [String] = []
        declaredSecrets = fileSources(root["secrets"], kind: "secrets")
        declaredConfigs = fileSources(root["configs"], kind: "configs")
        if let node = root["services"], let items = node.mapping {
            for item in items {
                guard Self.isValidServiceName(item.key) else {
                    context.errors.append(
                        .error(
                            "service name '\(item.key)' must use letters, digits, '.', '_' and '-' and start with a letter or digit",
                            at: item.keyLocation))
                    continue
                }
                serviceNodes[item.key] = item
                guard let service = service(item, project: name, volumes: volumes, networks: networks) else { continue }
                if service.profiles.isEmpty || !enabledProfiles.isDisjoint(with: service.profiles) {
                    services.append(service)
                } else {
                    inactive.append(service.name)
                }
            }
        } else if let node = root["services"] {
            expect("services", "a mapping of service names", node)
        } else {
            context.errors.append(.error("the stack file has no 'services'", at: root.location))
        }

        validateDependencies(services, inactive: inactive, nodes: serviceNodes)
        var stack = Stack(
            name: name, services: services, volumes: volumes, networks: networks,
            workingDirectory: projectDirectory, files: files, inactiveServices: inactive
        ).with(locations: locations)
        stack.secrets = declaredSecrets
        stack.configs = declaredConfigs
        return (stack, inactive)
    }

    static func isValidServiceName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, CharacterSet.alphanumerics.contains(first), first.isASCII else {
            return false
        }
        return name.unicodeScalars.allSatisfy {
            $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0))
        }
    }

    /// Unknown or inactive dependencies, and cycles, each reported where they are written.
    mutating func validateDependencies(_ services: [Service], inactive: [String], nodes: [String: YAMLEntry]) {
        let active = Set(services.map(\.name))
        func location(of dependency: String, in service: String) -> SourceLocation? {
            let node = nodes[service]?.value["depends_on"]
            if let entries = node?.mapping { return entries.first { $0.key == dependency }?.keyLocation }
            return node?.sequence?.first { $0.scalar == dependency }?.location ?? node?.location
        }
        for service in services {
            for dependency in service.dependsOn where !active.contains(dependency.service) {
                let message =
                    inactive.contains(dependency.service)
                    ? "service '\(service.name)' depends on '\(dependency.service)', which is in a profile that is not enabled; pass --profile"
                    : "service '\(service.name)' depends on '\(dependency.service)', which is not a service of this stack"
                if dependency.required {
                    context.errors.append(.error(message, at: location(of: dependency.service, in: service.name)))
                }
            }
        }
        // Depth-first search for a cycle; report it once, at the edge that closes it.
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        let byName = Dictionary(uniqueKeysWithValues: services.map { ($0.name, $0) })
        var reported = false
        func visit(_ name: String, _ path: [String]) {
            guard !reported, let service = byName[name] else { return }
            state[name] = 1
            for dependency in service.dependsOn where byName[dependency.service] != nil {
                if state[dependency.service] == 1 {
                    let cycle = (path + [name, dependency.service]).drop { $0 != dependency.service }
                    context.errors.append(
                        .error(
                            "depends_on forms a cycle: \(cycle.joined(separator: " -> "))",
                            at: location(of: dependency.service, in: name)))
                    reported = true
                    return
                }
                if state[dependency.service] == nil { visit(dependency.service, path + [name]) }
            }
            state[name] = 2
        }
        for service in services where state[service.name] == nil { visit(service.name, []) }
    }

    // MARK: services

    mutating func service(
        _ entry: YAMLEntry, project: String, volumes: [NamedVolume], networks: [NamedNetwork]
    ) -> Service? {
        let name = entry.key
        let what = "services.\(name)"
        guard let entries = entry.value.mapping else {
            expect(what, "a mapping", entry.value)
            return nil
        }
        warnUnknownKeys(
            entries, known: Self.serviceKeys, ignored: Self.ignoredServiceKeys,
            unsupported: Self.unsupportedServiceKeys, in: what)
        let node = entry.value
        var service = Service.named(name)

        if let value = node["image"] { service.image = string(value, "\(what).image") }
        if let value = node["build"] { service.build = build(value, "\(what).build") }
        if service.image == nil && service.build == nil {
            context.errors.append(.error("service '\(name)' needs 'image' or 'build'", at: entry.keyLocation))
        }
        if let value = node["command"], !value.isNull { service.command = commandLine(value, "\(what).command") }
        if let value = node["entrypoint"], !value.isNull {
            service.entrypoint = commandLine(value, "\(what).entrypoint")
        }

        // env_file first, then environment: the later wins.
        if let value = node["env_file"] {
            for (file, required) in envFiles(value, "\(what).env_file") {
                let path = absolutePath(file)
                // `required: false`: a file that is not there is skipped, as Compose does.
                if !required && !FileManager.default.fileExists(atPath: path) { continue }
                if !path.hasPrefix(projectDirectory + "/") {
                    context.warnings.append(
                        .warning("env_file \(file) is outside the project directory", at: value.location))
                }
                do {
                    for item in try DotEnv.parse(try StackLoader.readFile(path), file: path) {
                        if let resolved = item.value ?? environment[item.key] {
                            service.environment[item.key] = resolved
                            locations["\(name).environment.\(item.key)"] = SourceLocation(
                                file: path, line: item.line, column: 1)
                        }
                    }
                } catch let diagnostic as Diagnostic {
                    context.errors.append(diagnostic)
                } catch {
                    context.errors.append(.error("cannot read env_file \(path)", at: value.location))
                }
            }
        }
        if let value = node["environment"] {
            for (key, location) in keyLocations(value) { locations["\(name).environment.\(key)"] = location }
            for (key, resolved) in keyValues(value, "\(what).environment") {
                if let resolved {
                    service.environment[key] = resolved
                } else {
                    service.environment.removeValue(forKey: key)
                }
            }
        }
        if let value = node["labels"] {
            for (key, resolved) in keyValues(value, "\(what).labels") { service.labels[key] = resolved ?? "" }
        }
        if let value = node["ports"] {
            if let items = value.sequence {
                for item in items { service.ports += ports(item, "\(what).ports") }
            } else {
                expect("\(what).ports", "a list", value)
            }
        }
        if let value = node["expose"] { service.expose = (value.sequence ?? []).compactMap { $0.scalar } }
        if let value = node["volumes"] {
            if let items = value.sequence {
                for item in items {
                    guard let mount = volumeMount(item, "\(what).volumes", declared: volumes) else { continue }
                    if service.volumes.contains(where: { Paths.lexical($0.target) == Paths.lexical(mount.target) }) {
                        // The engine refuses it at create time ("Duplicate mount point").
                        error("\(what).volumes mounts two things at \(mount.target); keep one", item)
                    }
                    service.volumes.append(mount)
                }
            } else {
                expect("\(what).volumes", "a list", value)
            }
        }
        if let value = node["depends_on"] { service.dependsOn = dependencies(value, "\(what).depends_on") }
        if let value = node["healthcheck"] { service.healthcheck = healthcheck(value, "\(what).healthcheck") }
        if let value = node["profiles"] { service.profiles = stringList(value, "\(what).profiles") ?? [] }
        if let value = node["restart"] {
            service.restart = string(value, "\(what).restart")
            if let policy = service.restart,
                !["no", "always", "unless-stopped", "on-failure"].contains(
                    policy.split(separator: ":").first.map(String.init) ?? "")
            {
                error("\(what).restart must be no, always, unless-stopped or on-failure[:N], found '\(policy)'", value)
            }
        }
        if let value = node["working_dir"] { service.workingDir = string(value, "\(what).working_dir") }
        if let value = node["user"] { service.user = string(value, "\(what).user") }
        if let value = node["pull_policy"] {
            service.pullPolicy = string(value, "\(what).pull_policy")
            if let policy = service.pullPolicy,
                !["always", "never", "missing", "if_not_present", "build"].contains(policy)
            {
                error("\(what).pull_policy must be always, never, missing or build, found '\(policy)'", value)
            }
        }
        if let value = node["container_name"] { service.containerName = string(value, "\(what).container_name") }
        if let value = node["hostname"] { service.hostname = string(value, "\(what).hostname") }
        if let value = node["stop_signal"] { service.stopSignal = string(value, "\(what).stop_signal") }
        if let value = node["stop_grace_period"] {
            service.stopGracePeriod = duration(value, "\(what).stop_grace_period")
        }
        if let value = node["tty"] { service.tty = bool(value, "\(what).tty") ?? false }
        if let value = node["stdin_open"] { service.stdinOpen = bool(value, "\(what).stdin_open") ?? false }
        if let value = node["init"] { service.initProcess = bool(value, "\(what).init") }
        if let value = node["extra_hosts"] {
            service.extraHosts =
                value.mapping.map { entries in entries.compactMap { e in e.value.scalar.map { "\(e.key):\($0)" } } }
                ?? stringList(value, "\(what).extra_hosts") ?? []
        }
        service.networks = serviceNetworks(node["networks"], what: what, declared: networks)
        networkMode(node, what: what, into: &service)
        runtimeOptions(node, what: what, into: &service)
        if let value = node["secrets"] { service.secrets = fileReferences(value, "\(what).secrets", kind: "secrets") }
        if let value = node["configs"] { service.configs = fileReferences(value, "\(what).configs", kind: "configs") }
        if let value = node["develop"] { service.watch = watchRules(value, "\(what).develop") }
        if let value = node["x-devenv"] {
            service.devenv = devenvExtension(value, "\(what).x-devenv")
            for (key, location) in value["env"].map(keyLocations) ?? [] {
                locations["\(name).environment.\(key)"] = location
            }
        }
        return service
    }

    mutating func build(_ node: YAMLNode, _ what: String) -> Build? {
        if let context = node.scalar, !node.isNull {
            return checkedBuild(
                Build(context: absolutePath(context), dockerfile: "Dockerfile", args: [:], target: nil), node)
        }
        guard let entries = node.mapping else {
            expect(what, "a path or a mapping with context", node)
            return nil
        }
        warnUnknownKeys(
            entries, known: ["context", "dockerfile", "args", "target"],
            ignored: ["cache_from", "network", "labels", "shm_size"], in: what)
        let contextPath = node["context"].flatMap { string($0, "\(what).context") } ?? "."
        var args: [String: String] = [:]
        if let value = node["args"] {
            for (key, resolved) in keyValues(value, "\(what).args") { if let resolved { args[key] = resolved } }
        }
        return checkedBuild(
            Build(
                context: absolutePath(contextPath),
                dockerfile: node["dockerfile"].flatMap { string($0, "\(what).dockerfile") } ?? "Dockerfile", args: args,
                target: node["target"].flatMap { string($0, "\(what).target") }),
            node)
    }

    private mutating func checkedBuild(_ build: Build, _ node: YAMLNode) -> Build {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: build.context, isDirectory: &isDirectory) || !isDirectory.boolValue {
            error("build context \(build.context) is not a directory", node)
        } else if !FileManager.default.fileExists(atPath: build.context + "/" + build.dockerfile) {
            error("build context \(build.context) has no \(build.dockerfile)", node)
        }
        return build
    }

    /// Short (`[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]`, ranges allowed) or long syntax.
    /// Published ports bind 127.0.0.1 unless the file names an address.
    mutating func ports(_ node: YAMLNode, _ what: String) -> [PortMapping] {
        if let entries = node.mapping {
            warnUnknownKeys(
                entries, known: ["target", "published", "host_ip", "protocol", "mode", "name", "app_protocol"], in: what
            )
            guard let targetNode = node["target"], let target = int(targetNode, "\(what).target", range: 1...65535)
            else {
                if node["target"] == nil { error("\(what) needs a target port", node) }
                return []
            }
            let published = node["published"].flatMap { int($0, "\(what).published", range: 0...65535) }
            let hostIP = node["host_ip"].flatMap { string($0, "\(what).host_ip") } ?? "127.0.0.1"
            warnIfExposed(hostIP, node)
            return [
                PortMapping(
                    target: target, published: published == 0 ? nil : published, hostIP: hostIP,
                    protocol: node["protocol"]?.scalar ?? "tcp")
            ]
        }
        guard let text = node.scalar, !node.isNull else {
            expect("an item of \(what)", "\"[HOST_IP:][HOST_PORT:]CONTAINER_PORT\" or a mapping", node)
            return []
        }
        guard let parsed = Self.parsePortSpec(text) else {
            error("'\(text)' in \(what) is not [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]", node)
            return []
        }
        warnIfExposed(parsed.first?.hostIP ?? "", node)
        return parsed
    }

    private mutating func warnIfExposed(_ hostIP: String, _ node: YAMLNode) {
        if hostIP == "0.0.0.0" || hostIP == "::" {
            context.warnings.append(
                .warning(
                    "a port published on \(hostIP) is reachable from the network, not only from this machine",
                    at: node.location))
        }
    }

    static func parsePortSpec(_ text: String) -> [PortMapping]? {
        var spec = Substring(text)
        var proto = "tcp"
        if let slash = spec.lastIndex(of: "/") {
            proto = String(spec[spec.index(after: slash)...])
            spec = spec[..<slash]
            guard ["tcp", "udp", "sctp"].contains(proto) else { return nil }
        }
        var hostIP = "127.0.0.1"
        if spec.hasPrefix("["), let close = spec.firstIndex(of: "]") {
            hostIP = String(spec[spec.index(after: spec.startIndex)..<close])
            spec = spec[spec.index(after: close)...].drop { $0 == ":" }
        }
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let hostPart: String
        let containerPart: String
        switch parts.count {
        case 1: (hostPart, containerPart) = ("", parts[0])
        case 2: (hostPart, containerPart) = (parts[0], parts[1])
        case 3:
            hostIP = parts[0]
            (hostPart, containerPart) = (parts[1], parts[2])
        default: return nil
        }
        func range(_ value: String) -> ClosedRange<Int>? {
            let bounds = value.split(separator: "-").compactMap { Int($0) }
            guard bounds.count == value.split(separator: "-").count, let low = bounds.first, let high = bounds.last,
                bounds.count <= 2, low <= high, low >= 0, high <= 65535
            else { return nil }
            return low...high
        }
        guard let containers = range(containerPart), containers.lowerBound >= 1 else { return nil }
        let hosts: ClosedRange<Int>? = hostPart.isEmpty ? nil : range(hostPart)
        if !hostPart.isEmpty && hosts == nil { return nil }
        if let hosts, hosts.count != containers.count, hosts.count != 1 { return nil }
        return containers.enumerated().map { offset, target in
            let published = hosts.map { $0.count == 1 ? $0.lowerBound : $0.lowerBound + offset }
            return PortMapping(
                target: target, published: published == 0 ? nil : published, hostIP: hostIP, protocol: proto)
        }
    }

    /// Short (`name:/path[:ro]`, `./dir:/path`, `/path`) or long syntax. Named volumes must be
    /// declared at the top level.
    mutating func volumeMount(_ node: YAMLNode, _ what: String, declared: [NamedVolume]) -> VolumeMount? {
        var mount: VolumeMount
        if let entries = node.mapping {
            warnUnknownKeys(
                entries, known: ["type", "source", "target", "read_only", "volume", "bind", "tmpfs", "consistency"],
                in: what)
            guard let typeText = node["type"].flatMap({ string($0, "\(what).type") }),
                let kind = VolumeMount.Kind(rawValue: typeText)
            else {
                error("\(what) needs type: volume, bind or tmpfs", node)
                return nil
            }
            guard let target = node["target"].flatMap({ string($0, "\(what).target") }) else {
                error("\(what) needs a target path", node)
                return nil
            }
            mount = VolumeMount(
                type: kind, source: node["source"].flatMap { string($0, "\(what).source") }, target: target,
                readOnly: node["read_only"].flatMap { bool($0, "\(what).read_only") } ?? false)
            if let bind = node["bind"], let settings = bind.mapping {
                warnUnknownKeys(settings, known: ["propagation", "selinux", "create_host_path"], in: "\(what).bind")
                if let value = bind["selinux"] {
                    mount.selinux = string(value, "\(what).bind.selinux")
                    if let label = mount.selinux, !["z", "Z"].contains(label) {
                        error("\(what).bind.selinux must be z or Z, found '\(label)'", value)
                    }
                }
                if let value = bind["propagation"] {
                    mount.propagation = string(value, "\(what).bind.propagation")
                    if let mode = mount.propagation, !Self.propagationModes.contains(mode) {
                        error(
                            "\(what).bind.propagation must be one of \(Self.propagationModes.sorted().joined(separator: ", ")), found '\(mode)'",
                            value)
                    }
                }
            }
        } else {
            guard let text = node.scalar, !node.isNull else {
                expect("an item of \(what)", "\"SOURCE:TARGET[:ro]\" or a mapping", node)
                return nil
            }
            let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard (1...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else {
                error("'\(text)' in \(what) is not SOURCE:TARGET[:ro|rw]", node)
                return nil
            }
            if parts.count == 1 {
                mount = VolumeMount(type: .volume, source: nil, target: parts[0], readOnly: false)
            } else {
                let source = parts[0]
                let isPath = source.hasPrefix("/") || source.hasPrefix(".") || source.hasPrefix("~")
                var options: [String] = []
                if parts.count == 3 {
                    options = parts[2].split(separator: ",").map(String.init)
                    let known = ["ro", "rw", "z", "Z", "cached", "delegated", "consistent", "nocopy"]
                    guard options.allSatisfy({ known.contains($0) || Self.propagationModes.contains($0) }) else {
                        error(
                            "'\(parts[2])' in \(what) is not a mount option (ro, rw, z, Z, or a propagation such as rshared)",
                            node)
                        return nil
                    }
                }
                mount = VolumeMount(
                    type: isPath ? .bind : .volume, source: source, target: parts[1], readOnly: options.contains("ro"))
                mount.selinux = options.last { $0 == "z" || $0 == "Z" }
                mount.propagation = options.last { Self.propagationModes.contains($0) }
            }
        }
        guard mount.target.hasPrefix("/") else {
            error("the target of a mount must be an absolute path in the container, found '\(mount.target)'", node)
            return nil
        }
        switch mount.type {
        case .bind:
            guard let source = mount.source else {
                error("a bind mount needs a source path", node)
                return nil
            }
            mount.source = absolutePath(source)
            if let resolved = mount.source, let risk = Self.bindMountRisk(resolved, project: projectDirectory) {
                context.warnings.append(
                    .warning(
                        "\(what) bind-mounts \(resolved)\(mount.readOnly ? " (read-only)" : ""): \(risk)",
                        at: node.location))
            }
            // devenv never mounts the engine's socket itself; a file that asks for it gets it,
            // with a reminder of what it hands over.
            if let resolved = mount.source, Self.engineSockets.contains(resolved) {
                context.warnings.append(
                    .warning(
                        "\(what) mounts the docker socket \(resolved): the container gets full control of the engine (root on this machine)",
                        at: node.location))
            }
        case .volume:
            if let source = mount.source, !declared.contains(where: { $0.name == source }) {
                error("volume '\(source)' is not declared under the top-level 'volumes:'", node)
                return nil
            }
        case .tmpfs:
            mount.source = nil
        }
        if mount.type != .bind, mount.selinux != nil || mount.propagation != nil {
            // The engine labels and isolates volumes it manages itself.
            context.warnings.append(
                .warning(
                    "\(what): SELinux labels and propagation apply to bind mounts; ignored for this \(mount.type.rawValue) mount",
                    at: node.location))
            mount.selinux = nil
            mount.propagation = nil
        }
        return mount
    }

    static let propagationModes: Set<String> = ["private", "rprivate", "shared", "rshared", "slave", "rslave"]

    /// Why a bind mount's source deserves a word, if it does: the whole filesystem, the
    /// machine's configuration or system trees, a home directory, or anything outside the project.
    static func bindMountRisk(_ path: String, project: String, home: String = NSHomeDirectory()) -> String? {
        if path == "/" { return "the whole filesystem of the engine's host" }
        for system in ["/etc", "/root", "/boot", "/proc", "/sys", "/dev", "/var/lib/docker"]
        where path == system || path.hasPrefix(system + "/") {
            return "a system directory of the engine's host"
        }
        let components = path.split(separator: "/")
        if path == home || path == "/home" || (components.count == 2 && components[0] == "home") {
            return "a whole home directory (keys, tokens, shell history)"
        }
        if path == project || path.hasPrefix(project + "/") || engineSockets.contains(path) { return nil }
        return "outside the project directory"
    }

    static let engineSockets: Set<String> = [
        "/var/run/docker.sock", "/run/docker.sock", "/var/run/podman/podman.sock", "/run/podman/podman.sock",
    ]

    mutating func dependencies(_ node: YAMLNode, _ what: String) -> [Dependency] {
        if let items = node.sequence {
            return items.compactMap { item in
                string(item, "an item of \(what)").map { Dependency(service: $0, condition: .started, required: true) }
            }
        }
        guard let entries = node.mapping else {
            expect(what, "a list of services or a mapping", node)
            return []
        }
        return entries.compactMap { entry in
            var condition = Dependency.Condition.started
            var required = true
            if let settings = entry.value.mapping {
                warnUnknownKeys(settings, known: ["condition", "required", "restart"], in: "\(what).\(entry.key)")
                if let value = entry.value["condition"] {
                    guard let text = string(value, "\(what).\(entry.key).condition"),
                        let parsed = Dependency.Condition(rawValue: text)
                    else {
                        error(
                            "\(what).\(entry.key).condition must be service_started, service_healthy or service_completed_successfully",
                            value)
                        return nil
                    }
                    condition = parsed
                }
                if let value = entry.value["required"] {
                    required = bool(value, "\(what).\(entry.key).required") ?? true
                }
            } else if !entry.value.isNull {
                expect("\(what).\(entry.key)", "a mapping with condition", entry.value)
            }
            return Dependency(service: entry.key, condition: condition, required: required)
        }
    }

    mutating func healthcheck(_ node: YAMLNode, _ what: String) -> Healthcheck? {
        guard let entries = node.mapping else {
            expect(what, "a mapping", node)
            return nil
        }
        warnUnknownKeys(
            entries, known: ["test", "interval", "timeout", "retries", "start_period", "start_interval", "disable"],
            in: what)
        if let value = node["disable"], bool(value, "\(what).disable") == true { return Healthcheck(test: ["NONE"]) }
        var test: [String] = []
        if let value = node["test"] {
            if let items = value.sequence {
                test = stringList(value, "\(what).test") ?? []
                if let first = test.first, !["CMD", "CMD-SHELL", "NONE"].contains(first) {
                    error("\(what).test as a list must start with CMD, CMD-SHELL or NONE", items[0])
                }
            } else if let text = string(value, "\(what).test") {
                test = ["CMD-SHELL", text]
            }
        } else {
            error("\(what) needs a test", node)
        }
        return Healthcheck(
            test: test, interval: node["interval"].flatMap { duration($0, "\(what).interval") },
            timeout: node["timeout"].flatMap { duration($0, "\(what).timeout") },
            retries: node["retries"].flatMap { int($0, "\(what).retries", range: 0...10_000) },
            startPeriod: node["start_period"].flatMap { duration($0, "\(what).start_period") },
            startInterval: node["start_interval"].flatMap { duration($0, "\(what).start_interval") })
    }

    mutating func serviceNetworks(_ node: YAMLNode?, what: String, declared: [NamedNetwork]) -> [String: [String]] {
        guard let node, !node.isNull else { return ["default": []] }
        var result: [String: [String]] = [:]
        let names: [(String, YAMLNode, [String])]
        if let items = node.sequence {
            names = items.compactMap { item in string(item, "an item of \(what).networks").map { ($0, item, []) } }
        } else if let entries = node.mapping {
            names = entries.map { entry in
                warnUnknownKeys(
                    entry.value.mapping ?? [], known: ["aliases"], ignored: ["priority"],
                    unsupported: ["ipv4_address", "ipv6_address", "link_local_ips", "mac_address"],
                    in: "\(what).networks.\(entry.key)")
                let aliases =
                    entry.value["aliases"].flatMap { stringList($0, "\(what).networks.\(entry.key).aliases") } ?? []
                return (entry.key, entry.value, aliases)
            }
        } else {
            expect("\(what).networks", "a list or a mapping", node)
            return ["default": []]
        }
        for (name, item, aliases) in names {
            if !declared.contains(where: { $0.name == name }) {
                error("network '\(name)' is not declared under the top-level 'networks:'", item)
            }
            result[name] = aliases
        }
        return result
    }

    /// `develop: {watch: [{action, path, target, ignore}]}`.
    mutating func watchRules(_ node: YAMLNode, _ what: String) -> [WatchRule]? {
        guard let entries = node.mapping else {
            expect(what, "a mapping with watch", node)
            return nil
        }
        warnUnknownKeys(entries, known: ["watch"], in: what)
        guard let items = node["watch"]?.sequence else {
            if let watch = node["watch"] { expect("\(what).watch", "a list of rules", watch) }
            return nil
        }
        var rules: [WatchRule] = []
        for (index, item) in items.enumerated() {
            let place = "\(what).watch[\(index)]"
            guard let fields = item.mapping else {
                expect(place, "a mapping with action and path", item)
                continue
            }
            warnUnknownKeys(
                fields, known: ["action", "path", "target", "ignore"],
                unsupported: ["include", "exec", "initial_sync"],
                in: place)
            guard let actionNode = item["action"], let actionText = string(actionNode, "\(place).action") else {
                error("\(place) needs an action (sync, rebuild or sync+restart)", item)
                continue
            }
            guard let action = WatchRule.Action(rawValue: actionText) else {
                error(
                    "\(place).action: '\(actionText)' is not supported by devenv yet (sync, rebuild or sync+restart); remove it, or run this file with docker compose",
                    actionNode)
                continue
            }
            guard let pathNode = item["path"], let path = string(pathNode, "\(place).path") else {
                error("\(place) needs a path (a file or directory on this machine)", item)
                continue
            }
            let target = item["target"].flatMap { string($0, "\(place).target") }
            if action != .rebuild {
                guard let target, target.hasPrefix("/") else {
                    error("\(place): \(action.rawValue) needs a target, an absolute path in the container", item)
                    continue
                }
            }
            let ignore = item["ignore"].flatMap { stringList($0, "\(place).ignore") } ?? []
            rules.append(WatchRule(action: action, path: absolutePath(path), target: target, ignore: ignore))
        }
        return rules
    }

    mutating func devenvExtension(_ node: YAMLNode, _ what: String) -> DevenvExtension? {
        guard let entries = node.mapping else {
            expect(what, "a mapping", node)
            return nil
        }
        warnUnknownKeys(entries.filter { !$0.key.hasPrefix("x-") }, known: Self.devenvKeys, in: what)
        var env: [String: String] = [:]
        if let value = node["env"] {
            for (key, resolved) in keyValues(value, "\(what).env") { env[key] = resolved ?? "" }
            for (key, template) in env {
                if let problem = Template.syntaxError(in: template) { error("\(what).env.\(key): \(problem)", value) }
            }
        }
        var settings: [String: JSONValue] = [:]
        for entry in entries where entry.key != "env" { settings[entry.key] = Self.json(entry.value) }
        let (postgres, redis, django) = provisionSpecs(node, what, service: what)
        var migrate: [String]?
        if let value = node["migrate"] {
            if let text = value.scalar {
                migrate = ShellWords.split(text)
                if migrate == nil { error("\(what).migrate: unbalanced quotes", value) }
            } else if let items = value.sequence, items.allSatisfy({ $0.scalar != nil }), !items.isEmpty {
                migrate = items.compactMap(\.scalar)
            } else {
                expect("\(what).migrate", "a command (a string or a list of strings)", value)
            }
        }
        var settle: Double?
        if let value = node["settle"] {
            settle = duration(value, "\(what).settle")
            if let seconds = settle, !(0...600).contains(seconds) {
                error("\(what).settle: expected a duration from 0s to 10m", value)
            }
        }
        return DevenvExtension(
            env: env, settings: settings, postgres: postgres, redis: redis, django: django, migrate: migrate,
            settle: settle)
    }

    static func json(_ node: YAMLNode) -> JSONValue {
        switch node.kind {
        case .scalar(_, .null): return .null
        case .scalar(let text, .bool): return .bool(["true", "yes", "on"].contains(text.lowercased()))
        case .scalar(let text, .int), .scalar(let text, .float):
            return Double(text).map(JSONValue.number) ?? .string(text)
        case .scalar(let text, .string): return .string(text)
        case .mapping(let entries):
            return .object(Dictionary(entries.map { ($0.key, json($0.value)) }, uniquingKeysWith: { $1 }))
        case .sequence(let items): return .array(items.map(json))
        }
    }
}

/// POSIX-shell-like word splitting for string `command:`s (quotes and backslashes, no expansion).
public enum ShellWords {
    public static func split(_ text: String) -> [String]? {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaping = false
        for char in text {
            if escaping {
                current.append(char)
                escaping = false
                inWord = true
            } else if let open = quote {
                if char == open {
                    quote = nil
                } else if char == "\\" && open == "\"" {
                    escaping = true
                } else {
                    current.append(char)
                }
            } else if char == "'" || char == "\"" {
                quote = char
                inWord = true
            } else if char == "\\" {
                escaping = true
            } else if char.isWhitespace {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(char)
                inWord = true
            }
        }
        if quote != nil || escaping { return nil }
        if inWord { words.append(current) }
        return words
    }
}
