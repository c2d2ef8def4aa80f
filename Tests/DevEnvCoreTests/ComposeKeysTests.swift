import DockerEngine
import Foundation
import Testing

@testable import DevEnvCore
@testable import DevEnvModel
@testable import DevEnvOrchestration
@testable import DevEnvRender

/// The Compose keys that set how a container runs (issue #18): each reaches the engine's
/// container definition as written; keys devenv does not act on are refused with their place,
/// or, where ignoring them cannot change what runs, warned about. Nothing is dropped silently.
struct ComposeKeysTests {
    static let runtimeFile = """
        services:
          app:
            image: debian:bookworm-slim
            cap_add: [NET_ADMIN]
            cap_drop: [CHOWN, MKNOD]
            security_opt: ["no-new-privileges:true"]
            ulimits:
              nofile: { soft: 1024, hard: 2048 }
              nproc: 512
            sysctls: { net.ipv4.tcp_keepalive_time: "200" }
            shm_size: 64m
            tmpfs: ["/scratch:size=8m,mode=1777", /run/app]
            devices: ["/dev/fuse", "/dev/null:/dev/devenv-null:r"]
            ipc: "service:helper"
            pid: host
            privileged: false
            mem_limit: 256m
            cpus: 0.5
            pids_limit: 200
            mem_reservation: 128m
            memswap_limit: 512m
            cpu_shares: 512
            cpuset: "0-1"
            oom_score_adj: 500
            group_add: [audio, "1234"]
            dns: 10.0.0.53
            dns_search: cern.ch
            dns_opt: ["ndots:2"]
            read_only: true
            domainname: example.cern.ch
            volumes: ["./data:/data:ro,z", "./logs:/logs:Z,rshared"]
            healthcheck: { test: ["CMD", "true"], start_period: 30s, start_interval: 2s }
          helper:
            image: debian:bookworm-slim
            ipc: shareable
            deploy:
              replicas: 1
              resources:
                limits: { memory: 1.5g, cpus: "2" }
                reservations: { memory: 64m }
        """

    func plan(_ service: String, _ file: String) throws -> ContainerPlan {
        let stack = try ProjectDirectory(["compose.yaml": file]).load(project: "p").stack
        let definition = try #require(stack.service(service))
        return ContainerPlan.make(service: definition, stack: stack, environment: [:], imageID: "sha256:i")
    }

    @Test func runtimeKeysReachTheContainerDefinition() throws {
        let plan = try plan("app", Self.runtimeFile)
        let host = try #require(plan.config.HostConfig)
        #expect(host.CapAdd == ["NET_ADMIN"])
        #expect(host.CapDrop == ["CHOWN", "MKNOD"])
        #expect(host.SecurityOpt == ["no-new-privileges:true"])
        #expect(
            host.Ulimits == [
                Ulimit(name: "nofile", soft: 1024, hard: 2048), Ulimit(name: "nproc", soft: 512, hard: 512),
            ])
        #expect(host.Sysctls == ["net.ipv4.tcp_keepalive_time": "200"])
        #expect(host.ShmSize == 64 << 20)
        #expect(host.Tmpfs == ["/scratch": "size=8m,mode=1777", "/run/app": ""])
        #expect(
            host.Devices == [
                DeviceMapping(host: "/dev/fuse", container: "/dev/fuse", permissions: "rwm"),
                DeviceMapping(host: "/dev/null", container: "/dev/devenv-null", permissions: "r"),
            ])
        #expect(host.IpcMode == "container:p-helper-1")
        #expect(host.PidMode == "host")
        #expect(host.Privileged == false)
        #expect(host.Memory == 256 << 20)
        #expect(host.NanoCpus == 500_000_000)
        #expect(host.Dns == ["10.0.0.53"])
        #expect(host.DnsSearch == ["cern.ch"])
        #expect(host.DnsOptions == ["ndots:2"])
        #expect(host.ReadonlyRootfs == true)
        #expect(host.PidsLimit == 200)
        #expect(host.MemoryReservation == 128 << 20)
        #expect(host.MemorySwap == 512 << 20)
        #expect(host.CpuShares == 512)
        #expect(host.CpusetCpus == "0-1")
        #expect(host.OomScoreAdj == 500)
        #expect(host.GroupAdd == ["audio", "1234"])
        #expect(plan.config.Domainname == "example.cern.ch")
        let binds = host.Binds ?? []
        #expect(binds.contains { $0.hasSuffix("/data:/data:ro,z") }, "\(binds)")
        #expect(binds.contains { $0.hasSuffix("/logs:/logs:Z,rshared") }, "\(binds)")
        #expect(plan.config.Healthcheck?.StartInterval == 2_000_000_000)
        #expect(plan.config.Healthcheck?.StartPeriod == 30_000_000_000)
    }

    @Test func aSharedNamespaceStartsItsServiceFirst() throws {
        let stack = try ProjectDirectory(["compose.yaml": Self.runtimeFile]).load(project: "p").stack
        #expect(stack.service("app")?.dependsOn.map(\.service) == ["helper"])
    }

    @Test func deployLimitsApplyAndTheRestIsSaid() throws {
        let loaded = try ProjectDirectory(["compose.yaml": Self.runtimeFile]).load(project: "p")
        let host = try #require(try plan("helper", Self.runtimeFile).config.HostConfig)
        #expect(host.Memory == 1536 << 20)
        #expect(host.NanoCpus == 2_000_000_000)
        #expect(
            loaded.warnings.contains {
                $0.message.contains("deploy.resources.reservations is ignored") && $0.location?.line == 40
            }, "\(loaded.warnings)")
        let refused = try ProjectDirectory([
            "compose.yaml": """
            services:
              a:
                image: x
                mem_limit: 1g
                deploy: { replicas: 3, resources: { limits: { memory: 2g, pids: 10, devices: [] } } }
            """
        ]).errors()
        let messages = refused.map(\.description)
        #expect(messages.contains { $0.contains("compose.yaml:5:") && $0.contains("replicas is 3") }, "\(messages)")
        #expect(messages.contains { $0.contains("memory and mem_limit disagree") }, "\(messages)")
        #expect(messages.contains { $0.contains("limits.devices is not supported") }, "\(messages)")
    }

    /// Keys that would change what runs are errors at their place; before, some were dropped
    /// with a warning (network_mode, links, tmpfs, devices) and some silently (top-level
    /// secrets and configs; they, extends, include, network_mode and links are supported now).
    @Test func keysDevenvDoesNotRunAreRefusedWithTheirPlace() throws {
        let errors = try ProjectDirectory([
            "compose.yaml": """
            services:
              a:
                image: x
                external_links: [other_db]
                volumes_from: [b]
                userns_mode: host
              b:
                image: x
            """
        ]).errors().map(\.description)
        for (line, column, key) in [
            (4, 5, "services.a.external_links"), (5, 5, "services.a.volumes_from"), (6, 5, "services.a.userns_mode"),
        ] {
            #expect(
                errors.contains {
                    $0.contains("compose.yaml:\(line):\(column): error: \(key) is not supported by devenv yet")
                }, "\(key): \(errors)")
        }
    }

    @Test func keysThatCannotChangeWhatRunsAreWarnings() throws {
        let loaded = try ProjectDirectory([
            "compose.yaml": """
            services:
              a:
                image: x
                logging: { driver: json-file }
                platform: linux/amd64
                volumes: ["cache:/cache:z"]
            volumes:
              cache:
            """
        ]).load()
        let warnings = loaded.warnings.map(\.description)
        #expect(warnings.contains { $0.contains("compose.yaml:4:5: warning: services.a.logging is not supported") })
        #expect(warnings.contains { $0.contains("compose.yaml:5:5: warning: services.a.platform is not supported") })
        #expect(warnings.contains { $0.contains("apply to bind mounts; ignored for this volume mount") })
    }

    @Test func badRuntimeValuesAreLocatedErrors() throws {
        let errors = try ProjectDirectory([
            "compose.yaml": """
            services:
              a:
                image: x
                shm_size: lots
                cpus: 0
                ulimits: { nofile: { soft: 10, hard: 5 } }
                devices: ["dev/fuse"]
                tmpfs: relative
                ipc: sideways
                volumes: ["./d:/d:q"]
            """
        ]).errors().map(\.description)
        for (line, text) in [
            (4, "shm_size must be a size such as 64m"), (5, "cpus must be a number of CPUs above zero"),
            (6, "soft 10 is above hard 5"), (7, "is not HOST_PATH[:CONTAINER_PATH[:PERMISSIONS]]"),
            (8, "tmpfs must be absolute paths"), (9, "ipc must be host, private, shareable"),
            (10, "is not a mount option"),
        ] {
            #expect(errors.contains { $0.contains("compose.yaml:\(line):") && $0.contains(text) }, "\(text): \(errors)")
        }
    }

    @Test func byteSizesReadAsComposeWritesThem() {
        #expect(StackParser.parseByteSize("1024") == 1024)
        #expect(StackParser.parseByteSize("64m") == 64 << 20)
        #expect(StackParser.parseByteSize("64MB") == 64 << 20)
        #expect(StackParser.parseByteSize("1.5g") == 1536 << 20)
        #expect(StackParser.parseByteSize("100k") == 102_400)
        #expect(StackParser.parseByteSize("12b") == 12)
        #expect(StackParser.parseByteSize("m") == nil)
        #expect(StackParser.parseByteSize("5x") == nil)
        #expect(StackParser.parseByteSize("-1m") == nil)
    }

    @Test func envFilesMayBeOptional() throws {
        let project = try ProjectDirectory([
            "compose.yaml": """
            services:
              a:
                image: x
                env_file:
                  - .env.shared
                  - { path: .env.local, required: false }
            """,
            ".env.shared": "A=1\n",
        ])
        #expect(try project.load().stack.service("a")?.environment == ["A": "1"])
        try "B=2\n".write(toFile: project.path + "/.env.local", atomically: true, encoding: .utf8)
        #expect(try project.load().stack.service("a")?.environment == ["A": "1", "B": "2"])
        try FileManager.default.removeItem(atPath: project.path + "/.env.shared")
        let errors = project.errors().map(\.description)
        #expect(errors.contains { $0.contains(".env.shared") }, "\(errors)")
    }

    /// A container made before these keys existed keeps its hash parts: no spurious recreate
    /// reason; a changed limit is named.
    @Test func aChangedLimitIsNamedAsARuntimeChange() throws {
        let before = try plan("a", "services:\n  a:\n    image: x\n")
        #expect(before.parts.parts["runtime"] == nil)
        let after = try plan("a", "services:\n  a:\n    image: x\n    mem_limit: 1g\n")
        #expect(after.configHash != before.configHash)
        #expect(after.parts.changes(from: before.parts).contains { $0.hasPrefix("runtime settings (") })
    }

    /// `render kubernetes` takes the limits, capabilities and read-only root into the pod spec
    /// and names the runtime keys a pod cannot take as they are.
    @Test func renderCarriesLimitsAndNamesWhatItCannot() throws {
        let stack = try ProjectDirectory(["compose.yaml": Self.runtimeFile]).load(project: "p").stack
        var render = KubernetesRender(stack: stack, flavor: .kubernetes)
        let yaml = try render.files().map(\.yaml).joined(separator: "\n")
        #expect(yaml.contains("memory: '268435456'") || yaml.contains("memory: \"268435456\""), "\(yaml)")
        #expect(yaml.contains("cpu: 500m"), "\(yaml)")
        #expect(yaml.contains("readOnlyRootFilesystem: true"), "\(yaml)")
        #expect(yaml.contains("- NET_ADMIN"), "\(yaml)")
        #expect(
            render.warnings.contains {
                $0.hasPrefix(
                    "app: security_opt, ulimits, sysctls, shm_size, tmpfs, devices, ipc, pid, dns, domainname not rendered"
                )
            }, "\(render.warnings)")
    }

    /// What the engine's record of a new container lacks is named (rootless Podman on cgroup
    /// v1 keeps no memory limit, ulimits or domain name, and says nothing).
    @Test func settingsTheEngineLeftOutAreNamed() throws {
        let plan = try plan("app", Self.runtimeFile)
        #expect(plan.asksForRuntimeSettings)
        var recorded = try JSONDecoder().decode(
            ContainerInspect.self,
            from: Data(#"{"Id": "c", "Name": "/p-app-1", "State": {"Status": "created", "Running": false}}"#.utf8))
        recorded.Config = plan.config
        recorded.HostConfig = plan.config.HostConfig
        #expect(plan.unappliedSettings(in: recorded).isEmpty)
        recorded.HostConfig?.Memory = 0
        recorded.HostConfig?.Ulimits = []
        recorded.Config?.Domainname = ""
        #expect(plan.unappliedSettings(in: recorded) == ["mem_limit", "ulimits", "domainname"])
        #expect(try !self.plan("a", "services:\n  a:\n    image: x\n").asksForRuntimeSettings)
    }

    /// `network_mode` replaces the stack's networks (service:NAME becomes that service's
    /// container and starts it first); `links` start their service first and give it the alias.
    @Test func networkModeAndLinks() throws {
        let file = """
            services:
              base:
                image: x
                container_name: the-base
              sidecar:
                image: x
                network_mode: "service:base"
              isolated:
                image: x
                network_mode: none
              client:
                image: x
                links: ["base:database", base]
            """
        let stack = try ProjectDirectory(["compose.yaml": file]).load(project: "p").stack
        #expect(stack.service("sidecar")?.dependsOn.map(\.service) == ["base"])
        #expect(stack.service("client")?.dependsOn.map(\.service) == ["base"])
        let sidecar = try plan("sidecar", file).config
        #expect(sidecar.HostConfig?.NetworkMode == "container:the-base")
        #expect(sidecar.NetworkingConfig == nil)
        #expect(try plan("isolated", file).config.HostConfig?.NetworkMode == "none")
        let base = try plan("base", file).config
        #expect(base.NetworkingConfig?.EndpointsConfig?["p_default"]?.Aliases == ["base", "database"])
        let errors = try ProjectDirectory([
            "compose.yaml": """
            services:
              a:
                image: x
                network_mode: sideways
              b:
                image: x
                network_mode: host
                networks: [default]
                links: ["a:"]
            """
        ]).errors().map(\.description)
        #expect(errors.contains { $0.contains("compose.yaml:4:") && $0.contains("network_mode must be host, none") })
        #expect(errors.contains { $0.contains("compose.yaml:7:") && $0.contains("both network_mode and networks") })
        #expect(errors.contains { $0.contains("is not SERVICE or SERVICE:ALIAS") }, "\(errors)")
    }
}
