import DevEnvModel
import Foundation

/// Renders a stack as manifests for a cluster: per service a Deployment (PostgreSQL and Redis:
/// a StatefulSet, or with `externalDatabase` an ExternalName stub for the managed instance),
/// a Service for its ports, a ConfigMap for its plain environment and Secret *references* for
/// the values devenv generates (an example Secret with placeholders beside it, never values);
/// PVCs for named volumes; an Ingress (or, for OpenShift, a Route) per published HTTP port;
/// probes from healthchecks; resource requests.
public struct KubernetesRender: Sendable {
    public enum Flavor: String, Sendable { case kubernetes, openshift }

    let stack: Stack
    let flavor: Flavor
    /// `HOST[:PORT]` of a managed PostgreSQL to point at instead of running one.
    let externalDatabase: String?

    var externalHost: String? { externalDatabase.map { String($0.split(separator: ":")[0]) } }
    var externalPort: String? {
        guard let parts = externalDatabase?.split(separator: ":"), parts.count == 2 else { return nil }
        return String(parts[1])
    }

    public init(stack: Stack, flavor: Flavor, externalDatabase: String? = nil) {
        self.stack = stack
        self.flavor = flavor
        self.externalDatabase = externalDatabase
    }

    /// One rendered file: name and YAML documents.
    public struct File: Sendable {
        public var name: String
        public var yaml: String
    }

    /// Things that do not translate (bind mounts, for example), for the user to look at.
    public private(set) var warnings: [String] = []

    /// A DNS-1123 label from any name: lowercase, `[a-z0-9-]`, starting with a letter.
    static func dnsName(_ name: String) -> String {
        var result = String(name.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" })
        while result.contains("--") { result = result.replacingOccurrences(of: "--", with: "-") }
        result = result.trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        if let first = result.first, !first.isLetter { result = "s-" + result }
        return String(result.prefix(63))
    }

    func labels(_ service: String) -> [String: Any] {
        [
            "app.kubernetes.io/name": Self.dnsName(service), "app.kubernetes.io/part-of": Self.dnsName(stack.name),
            "app.kubernetes.io/managed-by": "devenv",
        ]
    }

    func isDatabase(_ service: Service) -> Bool {
        service.kind == .postgres
            || service.kind == .redis
    }

    public mutating func files() throws -> [File] {
        var files: [File] = []
        var volumes: [[String: Any]] = []
        for volume in stack.volumes where !volume.external {
            volumes.append([
                "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": ["name": Self.dnsName(volume.name), "labels": labels(volume.name)],
                "spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "1Gi"]]],
            ])
        }
        if !volumes.isEmpty { files.append(File(name: "volumes.yaml", yaml: try Self.yaml(volumes))) }
        for service in stack.services {
            let (documents, example) = try render(service)
            files.append(File(name: "\(Self.dnsName(service.name)).yaml", yaml: try Self.yaml(documents)))
            if let example {
                files.append(
                    File(name: "\(Self.dnsName(service.name))-secret.example.yaml", yaml: try Self.yaml([example])))
            }
        }
        return files
    }

    static func yaml(_ documents: [[String: Any]]) throws -> String {
        YAMLWriter.documents(documents.map { YAMLValue(any: $0) })
    }

    /// The manifests of one service, and its example Secret (placeholders) if it has secrets.
    mutating func render(_ service: Service) throws -> ([[String: Any]], [String: Any]?) {
        let name = Self.dnsName(service.name)
        if let host = externalHost, service.kind == .postgres {
            // Production's managed instance: a name in the cluster that resolves to it.
            return (
                [
                    [
                        "apiVersion": "v1", "kind": "Service",
                        "metadata": ["name": name, "labels": labels(service.name)],
                        "spec": ["type": "ExternalName", "externalName": host],
                    ]
                ], nil
            )
        }
        var documents: [[String: Any]] = []
        let secretKeys = Set((service.devenv?.env ?? [:]).keys).union(secretVariables(service))
        var plain = service.environment.filter { !secretKeys.contains($0.key) }
        // Apps of an external database reach it on its own port.
        if let port = externalPort, let host = plain["DJANGO_DATABASE_HOST"],
            stack.service(host).map({ $0.kind == .postgres }) == true
        {
            plain["DJANGO_DATABASE_PORT"] = port
        }
        var container: [String: Any] = [
            "name": name, "image": service.imageReference(project: stack.name),
            "resources": ["requests": ["cpu": "100m", "memory": "128Mi"]],
        ]
        renderRuntime(service, into: &container)
        if let entrypoint = service.entrypoint { container["command"] = entrypoint }
        if let command = service.command { container["args"] = command }
        if let workingDir = service.workingDir { container["workingDir"] = workingDir }
        if !plain.isEmpty {
            documents.append([
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": ["name": "\(name)-env", "labels": labels(service.name)],
                "data": plain,
            ])
            container["envFrom"] = [["configMapRef": ["name": "\(name)-env"]]]
        }
        var example: [String: Any]?
        if !secretKeys.isEmpty {
            container["env"] = secretKeys.sorted().map { key in
                ["name": key, "valueFrom": ["secretKeyRef": ["name": "\(name)-secret", "key": key]]]
            }
            // Placeholders only: what each key is, never its value.
            var placeholders: [String: String] = [:]
            for key in secretKeys.sorted() {
                placeholders[key] =
                    "<set me: \(service.devenv?.env[key].map { "was \($0) in the stack file" } ?? "generated by devenv locally")>"
            }
            example = [
                "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": ["name": "\(name)-secret", "labels": labels(service.name)],
                "stringData": placeholders,
            ]
        }
        let ports = Array(
            Set(service.ports.map(\.target) + service.expose.compactMap { Int($0.split(separator: "/")[0]) })
        ).sorted()
        if !ports.isEmpty { container["ports"] = ports.map { ["containerPort": $0, "name": "p\($0)"] } }
        if let check = service.healthcheck, !check.disabled, let first = check.test.first {
            let command = first == "CMD-SHELL" ? ["sh", "-c"] + check.test.dropFirst() : Array(check.test.dropFirst())
            var probe: [String: Any] = ["exec": ["command": command]]
            if let interval = check.interval { probe["periodSeconds"] = max(1, Int(interval)) }
            if let timeout = check.timeout { probe["timeoutSeconds"] = max(1, Int(timeout)) }
            if let retries = check.retries { probe["failureThreshold"] = max(1, retries) }
            if let start = check.startPeriod { probe["initialDelaySeconds"] = Int(start) }
            container["readinessProbe"] = probe
            container["livenessProbe"] = probe.merging(["failureThreshold": max(3, check.retries ?? 3)]) { $1 }
        }
        var podVolumes: [[String: Any]] = []
        var mounts: [[String: Any]] = []
        for (index, mount) in service.volumes.enumerated() {
            let volumeName = mount.source.map(Self.dnsName) ?? "scratch-\(index)"
            mounts.append(["name": volumeName, "mountPath": mount.target, "readOnly": mount.readOnly])
            switch mount.type {
            case .volume where mount.source != nil:
                let declared = stack.volumes.first { $0.name == mount.source }
                podVolumes.append([
                    "name": volumeName,
                    "persistentVolumeClaim": [
                        "claimName": Self.dnsName(declared?.external == true ? declared!.engineName : mount.source!)
                    ],
                ])
            case .bind:
                warnings.append(
                    "\(service.name): bind mount \(mount.source ?? "") -> \(mount.target) becomes an emptyDir; provide the data another way"
                )
                podVolumes.append(["name": volumeName, "emptyDir": [String: Any]()])
            default:
                podVolumes.append(["name": volumeName, "emptyDir": [String: Any]()])
            }
        }
        if !mounts.isEmpty { container["volumeMounts"] = mounts }
        var podSpec: [String: Any] = ["containers": [container]]
        if !podVolumes.isEmpty { podSpec["volumes"] = podVolumes }
        let selector = ["app.kubernetes.io/name": name, "app.kubernetes.io/part-of": Self.dnsName(stack.name)]
        var workload: [String: Any] = [
            "apiVersion": "apps/v1", "kind": isDatabase(service) ? "StatefulSet" : "Deployment",
            "metadata": ["name": name, "labels": labels(service.name)],
            "spec": [
                "replicas": 1, "selector": ["matchLabels": selector],
                "template": ["metadata": ["labels": labels(service.name)], "spec": podSpec],
            ] as [String: Any],
        ]
        if isDatabase(service), var spec = workload["spec"] as? [String: Any] {
            spec["serviceName"] = name
            workload["spec"] = spec
        }
        documents.append(workload)
        if !ports.isEmpty {
            documents.append([
                "apiVersion": "v1", "kind": "Service",
                "metadata": ["name": name, "labels": labels(service.name)],
                "spec": [
                    "selector": selector, "ports": ports.map { ["name": "p\($0)", "port": $0, "targetPort": $0] },
                ],
            ])
        }
        // Published HTTP ports (not databases) are reached from outside the cluster.
        for port in service.ports where port.published != nil || !isDatabase(service) {
            guard !isDatabase(service), port.protocol == "tcp" else { continue }
            let host = "\(name).\(Self.dnsName(stack.name)).example.org"
            if flavor == .openshift {
                documents.append([
                    "apiVersion": "route.openshift.io/v1", "kind": "Route",
                    "metadata": ["name": "\(name)-\(port.target)", "labels": labels(service.name)],
                    "spec": [
                        "host": host, "to": ["kind": "Service", "name": name],
                        "port": ["targetPort": "p\(port.target)"],
                        "tls": ["termination": "edge", "insecureEdgeTerminationPolicy": "Redirect"],
                    ] as [String: Any],
                ])
            } else {
                documents.append([
                    "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                    "metadata": ["name": "\(name)-\(port.target)", "labels": labels(service.name)],
                    "spec": [
                        "rules": [
                            [
                                "host": host,
                                "http": [
                                    "paths": [
                                        [
                                            "path": "/", "pathType": "Prefix",
                                            "backend": ["service": ["name": name, "port": ["number": port.target]]],
                                        ]
                                    ]
                                ],
                            ]
                        ]
                    ],
                ])
            }
        }
        return (documents, example)
    }

    /// Variables devenv sets from generated values (`POSTGRES_PASSWORD`, `REDIS_PASSWORD`…).
    func secretVariables(_ service: Service) -> Set<String> {
        var keys: Set<String> = []
        if service.devenv?.postgres != nil { keys.insert("POSTGRES_PASSWORD") }
        if service.devenv?.redis?.password != nil { keys.formUnion(["REDIS_PASSWORD", "REDISCLI_AUTH"]) }
        return keys
    }
}

extension KubernetesRender {
    /// Limits, capabilities and a read-only root as the pod spec has them; the runtime keys a
    /// pod cannot take as they are are named in a warning, never dropped silently.
    mutating func renderRuntime(_ service: Service, into container: inout [String: Any]) {
        var limits: [String: Any] = [:]
        if let memory = service.memLimit { limits["memory"] = String(memory) }
        if let cpus = service.cpus { limits["cpu"] = "\(Int((cpus * 1000).rounded()))m" }
        if !limits.isEmpty {
            var resources = container["resources"] as? [String: Any] ?? [:]
            resources["limits"] = limits
            container["resources"] = resources
        }
        var security: [String: Any] = [:]
        var capabilities: [String: Any] = [:]
        if let add = service.capAdd { capabilities["add"] = add }
        if let drop = service.capDrop { capabilities["drop"] = drop }
        if !capabilities.isEmpty { security["capabilities"] = capabilities }
        if let readOnly = service.readOnly { security["readOnlyRootFilesystem"] = readOnly }
        if let privileged = service.privileged { security["privileged"] = privileged }
        if !security.isEmpty { container["securityContext"] = security }
        let unrendered: [(String, Bool)] = [
            ("security_opt", service.securityOpt != nil), ("ulimits", service.ulimits != nil),
            ("sysctls", service.sysctls != nil), ("shm_size", service.shmSize != nil), ("tmpfs", service.tmpfs != nil),
            ("devices", service.devices != nil), ("ipc", service.ipc != nil), ("pid", service.pid != nil),
            ("dns", service.dns != nil || service.dnsSearch != nil || service.dnsOpt != nil),
            ("domainname", service.domainname != nil),
        ]
        let names = unrendered.filter(\.1).map(\.0)
        if !names.isEmpty {
            warnings.append(
                "\(service.name): \(names.joined(separator: ", ")) not rendered; the cluster's policies decide these")
        }
    }
}
