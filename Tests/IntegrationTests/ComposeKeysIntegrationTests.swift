import DockerEngine
import Foundation
import TestSupport
import Testing

/// The Compose keys that set how a container runs (issue #18), on every engine: what the
/// container sees from inside is what the file says. A limit an engine accepts but does not
/// apply (rootless Podman on cgroup v1 ignores resource limits) is said by `up`, not lost.
@Suite(.serialized) struct ComposeKeysIntegrationTests {
    static let compose = """
        services:
          app:
            image: debian:bookworm-slim
            command: ["sh", "-c", "trap exit TERM; sleep infinity & wait"]
            cap_add: [NET_ADMIN]
            cap_drop: [CHOWN]
            ulimits: { nofile: { soft: 1024, hard: 2048 } }
            sysctls: { net.ipv4.tcp_keepalive_time: "200" }
            tmpfs: ["/scratch:size=8m"]
            ipc: "service:helper"
            mem_limit: 256m
            cpus: 0.5
            domainname: example.cern.ch
            pids_limit: 200
            mem_reservation: 128m
            memswap_limit: 512m
            cpu_shares: 512
            cpuset: "0"
            oom_score_adj: 500
            group_add: [audio]
          helper:
            image: debian:bookworm-slim
            command: ["sh", "-c", "trap exit TERM; sleep infinity & wait"]
            ipc: shareable
            shm_size: 96m
        """

    @Test(arguments: TestEngine.all)
    func runtimeKeysApplyInsideTheContainer(engine: TestEngine) async throws {
        try await DevenvProject(files: ["compose.yaml": Self.compose], engine: engine).run { project in
            let up = try await project.devenv(["up"])
            #expect(up.status == 0, "\(engine.name): \(up.stderr)")
            func inside(_ service: String, _ script: String) async throws -> String {
                try await project.shell(service, script, on: engine)
            }
            // Applied inside the container, or named by up's warning: never silently dropped.
            let warning = up.stderr.split(separator: "\n").first { $0.contains("accepted but did not apply") } ?? ""
            func appliedOrSaid(_ key: String, _ applied: Bool, _ seen: String) {
                #expect(
                    applied || (warning.contains("app") && warning.contains(key)),
                    "\(engine.name): \(key) neither applied (\(seen)) nor said:\n\(up.stderr)")
            }
            // CapEff: CHOWN is bit 0, NET_ADMIN bit 12.
            let capabilities = try await inside("app", "grep CapEff /proc/self/status | cut -f2")
            let bits = UInt64(capabilities, radix: 16) ?? 0
            #expect(bits & 1 == 0, "\(engine.name): CHOWN kept: \(capabilities)")
            #expect(bits & (1 << 12) != 0, "\(engine.name): NET_ADMIN missing: \(capabilities)")
            // The main process's limits: the engine's runc can raise an exec'd process's soft
            // NOFILE to its hard one (seen on the remote dockerd), which is not the file's doing.
            let limits = try await inside("app", "grep 'Max open files' /proc/1/limits | tr -s ' ' | cut -d' ' -f4,5")
            appliedOrSaid("ulimits", limits == "1024 2048", limits)
            let keepalive = try await inside("app", "cat /proc/sys/net/ipv4/tcp_keepalive_time")
            appliedOrSaid("sysctls", keepalive == "200", keepalive)
            let mounts = try await inside("app", "grep -E ' /(dev/shm|scratch) ' /proc/mounts")
            #expect(mounts.contains("/scratch tmpfs") && mounts.contains("size=8192k"), "\(engine.name): \(mounts)")
            // app shares helper's IPC namespace, so it sees helper's 96 MiB /dev/shm.
            #expect(mounts.contains("/dev/shm tmpfs") && mounts.contains("size=98304k"), "\(engine.name): \(mounts)")
            let ipc = try await inside("app", "readlink /proc/1/ns/ipc")
            #expect(ipc == (try await inside("helper", "readlink /proc/1/ns/ipc")), "\(engine.name): IPC not shared")
            let domain = try await inside("app", "hostname -d || true")
            appliedOrSaid("domainname", domain == "example.cern.ch", domain)
            let memory = try await inside(
                "app", "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes")
            appliedOrSaid("mem_limit", memory == "268435456", memory)
            let quota = try await inside(
                "app", "cat /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us")
            appliedOrSaid("cpus", quota == "50000 100000" || quota == "50000", quota)
            // cgroup v1 paths first (this host), then v2.
            let pids = try await inside(
                "app", "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max 2>/dev/null || true"
            )
            appliedOrSaid("pids_limit", pids == "200", pids)
            let soft = try await inside(
                "app",
                "cat /sys/fs/cgroup/memory/memory.soft_limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.low 2>/dev/null || true"
            )
            appliedOrSaid("mem_reservation", soft == "134217728", soft)
            let swap = try await inside(
                "app",
                "cat /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.swap.max 2>/dev/null || true"
            )
            appliedOrSaid("memswap_limit", swap == "536870912" || swap == "268435456", swap)
            let shares = try await inside(
                "app",
                "cat /sys/fs/cgroup/cpu/cpu.shares 2>/dev/null || cat /sys/fs/cgroup/cpu.weight 2>/dev/null || true")
            appliedOrSaid("cpu_shares", shares == "512" || shares == "20", shares)
            let cpuset = try await inside(
                "app",
                "cat /sys/fs/cgroup/cpuset/cpuset.cpus 2>/dev/null || cat /sys/fs/cgroup/cpuset.cpus 2>/dev/null || true"
            )
            appliedOrSaid("cpuset", cpuset == "0", cpuset)
            #expect(try await inside("app", "cat /proc/1/oom_score_adj") == "500", "\(engine.name)")
            let groups = try await inside("app", "id -G").split(separator: " ")
            #expect(groups.contains("29"), "\(engine.name): audio (29) not among \(groups)")
            #expect(try await project.devenv(["up"]).stderr.contains("2 up to date"), "\(engine.name)")
        }
    }
}

/// `network_mode` and `links` on every engine (issue #18): a service in another's network
/// namespace, one with no network, and a link alias that resolves.
@Suite(.serialized) struct NetworkModeIntegrationTests {
    static let compose = """
        services:
          base:
            image: debian:bookworm-slim
            command: ["sh", "-c", "trap exit TERM; sleep infinity & wait"]
          sidecar:
            image: debian:bookworm-slim
            command: ["sh", "-c", "trap exit TERM; sleep infinity & wait"]
            network_mode: "service:base"
          isolated:
            image: debian:bookworm-slim
            command: ["sh", "-c", "trap exit TERM; sleep infinity & wait"]
            network_mode: none
          client:
            image: debian:bookworm-slim
            command: ["sh", "-c", "trap exit TERM; sleep infinity & wait"]
            links: ["base:database"]
        """

    @Test(arguments: TestEngine.all)
    func servicesShareOrLeaveTheNetworkAsTheFileSays(engine: TestEngine) async throws {
        try await DevenvProject(files: ["compose.yaml": Self.compose], engine: engine).run { project in
            let up = try await project.devenv(["up"])
            #expect(up.status == 0, "\(engine.name): \(up.stderr)")
            func inside(_ service: String, _ script: String) async throws -> String {
                try await project.shell(service, script, on: engine)
            }
            #expect(
                try await inside("sidecar", "readlink /proc/1/ns/net")
                    == (try await inside("base", "readlink /proc/1/ns/net")),
                "\(engine.name): sidecar is not in base's network namespace")
            #expect(try await inside("isolated", "ls /sys/class/net") == "lo", "\(engine.name)")
            let database = try await inside("client", "getent hosts database | cut -d' ' -f1")
            let base = try await inside("client", "getent hosts base | cut -d' ' -f1")
            #expect(!database.isEmpty && database == base, "\(engine.name): database=\(database) base=\(base)")
            #expect(try await project.devenv(["up"]).stderr.contains("4 up to date"), "\(engine.name)")
        }
    }
}
