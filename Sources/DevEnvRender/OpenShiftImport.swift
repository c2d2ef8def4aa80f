import DevEnvModel
import Foundation

/// Reads `oc`/Kubernetes manifests and writes a stack file: one service per workload container,
/// environment resolved from ConfigMaps, Secrets turned into generated values (their values are
/// never read into the output), probes into healthchecks, PVCs into volumes, Routes into
/// published ports, CronJobs into loop services, ImageStreams back to their source images, and
/// a database outside the cluster (DBoD) into a local PostgreSQL with the roles and databases
/// the variables name. What does not translate is listed as a warning.
public struct OpenShiftImport {
    public private(set) var warnings: [String] = []
    var notes: [String] = []

    typealias Object = [String: Any]

    var configMaps: [String: [String: String]] = [:]
    var secrets: [String: [String]] = [:]  // name → keys only
    var imageStreams: [String: String] = [:]  // name → source image
    var services: [String: (selector: [String: String], ports: [Int])] = [:]
    var routes: [(service: String, port: String?)] = []
    var workloads: [Object] = []

    public init() {}

    /// Imports the files (and `.yaml`/`.yml`/`.json` files of directories, recursively).
    public mutating func run(paths: [String], projectName: String) throws -> String {
        for path in paths { try read(path) }
        return try stackYAML(projectName: projectName)
    }

    mutating func read(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DevEnvError("\(path) does not exist", exitCode: 2)
        }
        if isDirectory.boolValue {
            let entries = (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? []).sorted()
            for entry in entries where [".yaml", ".yml", ".json"].contains(where: entry.hasSuffix) {
                try read((path as NSString).appendingPathComponent(entry))
            }
            return
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let documents: [YAMLNode]
        do {
            documents = try YAMLReader.parseAll(text, file: path)
        } catch {
            throw DevEnvError(error.description, exitCode: 2)
        }
        for document in documents { if let object = Self.plain(document) as? Object { add(object, from: path) } }
    }

    static func plain(_ node: YAMLNode) -> Any {
        switch node.kind {
        case .scalar(let text, _): return text
        case .mapping(let entries):
            return Dictionary(entries.map { ($0.key, plain($0.value)) }, uniquingKeysWith: { $1 })
        case .sequence(let items): return items.map(plain)
        }
    }

    mutating func add(_ object: Object, from path: String) {
        let kind = object["kind"] as? String ?? ""
        let metadata = object["metadata"] as? Object ?? [:]
        let name = metadata["name"] as? String ?? "unnamed"
        switch kind {
        case "List":
            for item in object["items"] as? [Object] ?? [] { add(item, from: path) }
        case "Template":
            // Parameters: their value, else a placeholder; ${PARAM} and ${{PARAM}} are replaced.
            var values: [String: String] = [:]
            for parameter in object["parameters"] as? [Object] ?? [] {
                guard let key = parameter["name"] as? String else { continue }
                values[key] = parameter["value"] as? String ?? (parameter["generate"] != nil ? "generated" : "")
            }
            for item in object["objects"] as? [Object] ?? [] {
                add(Self.substitute(item, values) as? Object ?? item, from: path)
            }
        case "ConfigMap":
            configMaps[name] = (object["data"] as? Object ?? [:]).compactMapValues { $0 as? String }
        case "Secret":
            // Keys only: a secret's value never reaches the stack file.
            secrets[name] =
                Array((object["data"] as? Object ?? [:]).keys) + Array((object["stringData"] as? Object ?? [:]).keys)
        case "ImageStream":
            for tag in (object["spec"] as? Object)?["tags"] as? [Object] ?? [] {
                if let from = tag["from"] as? Object, from["kind"] as? String == "DockerImage",
                    let image = from["name"] as? String
                {
                    imageStreams[name] = imageStreams[name] ?? image
                }
            }
        case "Service":
            let spec = object["spec"] as? Object ?? [:]
            services[name] = (
                (spec["selector"] as? Object ?? [:]).compactMapValues { $0 as? String },
                (spec["ports"] as? [Object] ?? []).compactMap {
                    ($0["targetPort"] ?? $0["port"]).flatMap { Int("\($0)") }
                }
            )
        case "Route", "Ingress":
            if kind == "Route", let to = (object["spec"] as? Object)?["to"] as? Object,
                let service = to["name"] as? String
            {
                let port = ((object["spec"] as? Object)?["port"] as? Object)?["targetPort"].map { "\($0)" }
                routes.append((service, port))
            } else if kind == "Ingress" {
                for rule in (object["spec"] as? Object)?["rules"] as? [Object] ?? [] {
                    for entry in ((rule["http"] as? Object)?["paths"] as? [Object]) ?? [] {
                        if let backend = (entry["backend"] as? Object)?["service"] as? Object,
                            let service = backend["name"] as? String
                        {
                            routes.append((service, ((backend["port"] as? Object)?["number"]).map { "\($0)" }))
                        }
                    }
                }
            }
        case "Deployment", "DeploymentConfig", "StatefulSet", "CronJob", "Job":
            workloads.append(object)
        case "PersistentVolumeClaim", "BuildConfig", "ServiceAccount", "RoleBinding", "Role", "NetworkPolicy":
            if kind == "BuildConfig" {
                notes.append("BuildConfig \(name): build its image locally with a build: section")
            }
        default:
            warnings.append("\(path): \(kind) \(name) is not imported")
        }
    }

    static func substitute(_ value: Any, _ parameters: [String: String]) -> Any {
        switch value {
        case let text as String:
            var result = text
            for (key, replacement) in parameters {
                result = result.replacingOccurrences(of: "${{\(key)}}", with: replacement).replacingOccurrences(
                    of: "${\(key)}", with: replacement)
            }
            return result
        case let object as Object: return object.mapValues { substitute($0, parameters) }
        case let array as [Any]: return array.map { substitute($0, parameters) }
        default: return value
        }
    }

    // MARK: the stack

    mutating func stackYAML(projectName: String) throws -> String {
        var stackServices: [String: Object] = [:]
        var volumes: Set<String> = []
        var databaseUsers: [String: Set<String>] = [:]  // database → users
        var externalHosts: Set<String> = []
        for workload in workloads {
            let kind = workload["kind"] as? String ?? ""
            let name = (workload["metadata"] as? Object)?["name"] as? String ?? "app"
            var spec = workload["spec"] as? Object ?? [:]
            var schedule: String?
            if kind == "CronJob" {
                schedule = spec["schedule"] as? String
                spec = ((spec["jobTemplate"] as? Object)?["spec"] as? Object) ?? [:]
            }
            let template = spec["template"] as? Object ?? [:]
            let labels = ((template["metadata"] as? Object)?["labels"] as? Object ?? [:]).compactMapValues {
                $0 as? String
            }
            let podSpec = template["spec"] as? Object ?? [:]
            let containers = podSpec["containers"] as? [Object] ?? []
            let triggers = (spec["triggers"] as? [Object] ?? []).compactMap { ($0["imageChangeParams"] as? Object) }
            for container in containers {
                let containerName = container["name"] as? String ?? name
                let serviceName = KubernetesRender.dnsName(containers.count == 1 ? name : "\(name)-\(containerName)")
                var service: Object = [:]
                service["image"] = image(for: container, triggers: triggers, service: serviceName)
                if let build = service["image"] as? String, build.hasPrefix("build:") {
                    service["image"] = nil
                    service["build"] = String(build.dropFirst("build:".count))
                }
                if let command = container["command"] as? [String] { service["entrypoint"] = command }
                if let args = container["args"] as? [String] { service["command"] = args }
                var environment: [String: String] = [:]
                var secretEnv: [String: String] = [:]
                for source in container["envFrom"] as? [Object] ?? [] {
                    if let map = (source["configMapRef"] as? Object)?["name"] as? String {
                        environment.merge(configMaps[map] ?? [:]) { $1 }
                    } else if let secret = (source["secretRef"] as? Object)?["name"] as? String {
                        for key in secrets[secret] ?? [] {
                            secretEnv[key] =
                                "{{ \(serviceName).\(KubernetesRender.dnsName(secret))-\(key.lowercased()).secret }}"
                        }
                    }
                }
                for entry in container["env"] as? [Object] ?? [] {
                    guard let key = entry["name"] as? String else { continue }
                    if let value = entry["value"] as? String {
                        environment[key] = value
                    } else if let from = entry["valueFrom"] as? Object {
                        if let ref = from["configMapKeyRef"] as? Object, let map = ref["name"] as? String,
                            let mapKey = ref["key"] as? String
                        {
                            environment[key] = configMaps[map]?[mapKey] ?? ""
                        } else if let ref = from["secretKeyRef"] as? Object, let secret = ref["name"] as? String {
                            let secretKey = (ref["key"] as? String ?? key).lowercased()
                            secretEnv[key] =
                                "{{ \(serviceName).\(KubernetesRender.dnsName(secret))-\(secretKey).secret }}"
                        } else {
                            warnings.append(
                                "\(serviceName): env \(key) uses a valueFrom devenv does not import (fieldRef/resourceFieldRef)"
                            )
                        }
                    }
                }
                // A database outside the cluster (DBoD): a local PostgreSQL takes its place.
                if let host = environment["DJANGO_DATABASE_HOST"], services[host] == nil {
                    externalHosts.insert(host)
                    let database = environment["DJANGO_DATABASE_NAME"] ?? "app"
                    let user = environment["DJANGO_DATABASE_USER"] ?? "app"
                    databaseUsers[database, default: []].insert(user)
                    environment["DJANGO_DATABASE_HOST"] = "db"
                    environment["DJANGO_DATABASE_PORT"] = "5432"
                    secretEnv["DJANGO_DATABASE_PASSWORD"] = "{{ db.roles.\(user).password }}"
                    environment["DJANGO_DATABASE_PASSWORD"] = nil
                }
                if !environment.isEmpty { service["environment"] = environment }
                if !secretEnv.isEmpty { service["x-devenv"] = ["env": secretEnv] }
                let ports = (container["ports"] as? [Object] ?? []).compactMap {
                    $0["containerPort"].flatMap { Int("\($0)") }
                }
                let exposedBy = services.filter {
                    !$0.value.selector.isEmpty && $0.value.selector.allSatisfy { labels[$0.key] == $0.value }
                }.map(\.key)
                let published = routes.filter { exposedBy.contains($0.service) }.compactMap { route in
                    route.port.flatMap(Int.init) ?? services[route.service]?.ports.first ?? ports.first
                }
                if !published.isEmpty {
                    service["ports"] = Array(Set(published)).sorted().map { "127.0.0.1:\($0):\($0)" }
                }
                if !ports.isEmpty { service["expose"] = ports.map(String.init) }
                if let probe = (container["readinessProbe"] ?? container["livenessProbe"]) as? Object,
                    let check = healthcheck(probe)
                {
                    service["healthcheck"] = check
                }
                var mounts: [String] = []
                let podVolumes = podSpec["volumes"] as? [Object] ?? []
                for mount in container["volumeMounts"] as? [Object] ?? [] {
                    guard let volumeName = mount["name"] as? String, let path = mount["mountPath"] as? String,
                        let volume = podVolumes.first(where: { $0["name"] as? String == volumeName })
                    else { continue }
                    if let claim = (volume["persistentVolumeClaim"] as? Object)?["claimName"] as? String {
                        volumes.insert(claim)
                        mounts.append("\(claim):\(path)")
                    } else if volume["emptyDir"] != nil {
                        mounts.append(path)
                    } else {
                        warnings.append(
                            "\(serviceName): volume \(volumeName) at \(path) (\(volume.keys.filter { $0 != "name" }.sorted().joined(separator: ","))) is not imported"
                        )
                    }
                }
                if !mounts.isEmpty { service["volumes"] = mounts }
                if let schedule {
                    let (seconds, exact) = Self.interval(of: schedule)
                    if !exact {
                        warnings.append("\(serviceName): schedule '\(schedule)' runs every \(seconds)s locally")
                    }
                    let command = ((service["entrypoint"] as? [String] ?? []) + (service["command"] as? [String] ?? []))
                        .map(Self.shellQuote).joined(separator: " ")
                    service["entrypoint"] = [
                        "sh", "-c", "while true; do \(command.isEmpty ? "true" : command); sleep \(seconds); done",
                    ]
                    service["command"] = nil
                    notes.append("\(serviceName): the CronJob '\(schedule)' runs as a loop")
                }
                stackServices[serviceName] = service
            }
        }
        if !databaseUsers.isEmpty {
            let roles = Set(databaseUsers.values.flatMap { $0 }).sorted().map { ["name": $0] }
            let databases = databaseUsers.keys.sorted().map {
                ["name": $0, "owner": databaseUsers[$0]!.sorted().first!]
            }
            stackServices["db"] =
                [
                    "image": "postgres:15", "ports": ["5432"], "volumes": ["pgdata:/var/lib/postgresql/data"],
                    "healthcheck": ["test": ["CMD", "pg_isready", "-U", "postgres"], "interval": "2s", "retries": 30],
                    "x-devenv": ["postgres": ["roles": roles, "databases": databases]],
                ] as Object
            volumes.insert("pgdata")
            notes.append("db: stands in for \(externalHosts.sorted().joined(separator: ", ")) (outside the cluster)")
        }
        var stack: Object = ["name": KubernetesRender.dnsName(projectName), "services": stackServices]
        if !volumes.isEmpty {
            stack["volumes"] = Dictionary(uniqueKeysWithValues: volumes.sorted().map { ($0, NSNull()) })
        }
        let header =
            ([
                "# Imported by devenv from OpenShift/Kubernetes manifests.",
                "# Secrets became values devenv generates; none of their values were read.",
            ]
            + notes.map { "# \($0)" } + warnings.map { "# warning: \($0)" }).joined(separator: "\n")
        return header + "\n" + YAMLWriter.document(YAMLValue(any: stack))
    }

    /// The image: a DeploymentConfig's ImageStream trigger or an internal-registry reference is
    /// mapped back to the stream's source image, else to a `build:` placeholder.
    mutating func image(for container: Object, triggers: [Object], service: String) -> String {
        let image = container["image"] as? String ?? ""
        let containerName = container["name"] as? String ?? ""
        var stream: String?
        if let trigger = triggers.first(where: { ($0["containerNames"] as? [String] ?? []).contains(containerName) }),
            let from = trigger["from"] as? Object, let tag = from["name"] as? String
        {
            stream = String(tag.split(separator: ":")[0])
        } else if image.contains("image-registry.openshift-image-registry.svc")
            || image.contains("docker-registry.default.svc") || image.isEmpty
        {
            stream = image.split(separator: "/").last.map { String($0.split(separator: ":")[0]) }
        }
        guard let stream else { return image }
        if let source = imageStreams[stream] { return source }
        notes.append(
            "\(service): image stream \(stream) has no source image here; build it locally (build: ./\(stream))")
        return "build:./\(stream)"
    }

    func healthcheck(_ probe: Object) -> Object? {
        var test: [String]
        if let exec = (probe["exec"] as? Object)?["command"] as? [String] {
            test = ["CMD"] + exec
        } else if let http = probe["httpGet"] as? Object {
            let url = "http://127.0.0.1:\(http["port"].map { "\($0)" } ?? "80")\(http["path"] as? String ?? "/")"
            test = [
                "CMD-SHELL",
                "wget -q -O /dev/null \(url) || curl -fsS -o /dev/null \(url) || python3 -c \"import urllib.request; urllib.request.urlopen('\(url)')\"",
            ]
        } else if let tcp = probe["tcpSocket"] as? Object, let port = tcp["port"] {
            test = ["CMD-SHELL", "bash -c '</dev/tcp/127.0.0.1/\(port)'"]
        } else {
            return nil
        }
        var check: Object = ["test": test]
        if let period = probe["periodSeconds"] { check["interval"] = "\(period)s" }
        if let timeout = probe["timeoutSeconds"] { check["timeout"] = "\(timeout)s" }
        if let failures = probe["failureThreshold"] { check["retries"] = Int("\(failures)") ?? 3 }
        if let delay = probe["initialDelaySeconds"] { check["start_period"] = "\(delay)s" }
        test = []
        return check
    }

    /// Seconds between runs of a cron schedule: exact for `*/N` minutes or hours and `@hourly`/
    /// `@daily`, else hourly.
    static func interval(of schedule: String) -> (Int, Bool) {
        let fields = schedule.split(separator: " ").map(String.init)
        switch schedule {
        case "@hourly": return (3600, true)
        case "@daily", "@midnight": return (86_400, true)
        default: break
        }
        guard fields.count == 5 else { return (3600, false) }
        if fields[0].hasPrefix("*/"), let minutes = Int(fields[0].dropFirst(2)), fields[1...].allSatisfy({ $0 == "*" })
        {
            return (minutes * 60, true)
        }
        if fields[0] == "*", fields[1...].allSatisfy({ $0 == "*" }) { return (60, true) }
        if Int(fields[0]) != nil, fields[1].hasPrefix("*/"), let hours = Int(fields[1].dropFirst(2)) {
            return (hours * 3600, true)
        }
        if Int(fields[0]) != nil, fields[1] == "*" { return (3600, true) }
        return (3600, false)
    }

    static func shellQuote(_ word: String) -> String {
        word.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:".contains($0) }
            ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
