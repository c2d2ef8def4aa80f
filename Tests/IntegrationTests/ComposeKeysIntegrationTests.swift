import DockerEngine
import Foundation
import TestSupport
import Testing

/// The Compose keys that set how a container runs (issue #18), on every engine: what the
/// container sees from inside is what the file says. A limit an engine accepts but does not
/// apply (rootless Podman on cgroup v1 ignores resource limits) is said by `up`, not lost.
@Suite struct ComposeKeysIntegrationTests {
    static let compose = """
        services:
          app:
            image: debian:bookworm-slim
            command: ["sh", "-c", "trap exit TERM; sleep infinity & wait"]
            cap_add: [NET_ADMIN]
            cap_drop: [CHOWN]
            ulimits: { nofile: { soft: 1024, hard: 2048 } }
            sysctls: { net.ipv4.tcp_keepalive_time: "200" }
            shm_size: 64m
            tmpfs: ["/scratch:size=8m"]
            ipc: "service:helper"
            mem_limit: 256m
            cpus: 0.5
            domainname: example.cern.ch
          helper:
            image: debian:bookworm-slim
            command: ["sh", "-c", "trap exit TERM; sleep infinity & wait"]
            ipc: shareable
        """

    @Test(arguments: TestEngine.all)
    func runtimeKeysApplyInsideTheContainer(engine: TestEngine) async throws {
        try await DevenvProject(files: ["compose.yaml": Self.compose], engine: engine).run { project in
            let up = try await project.devenv(["up"])
            #expect(up.status == 0, "\(engine.name): \(up.stderr)")
            func inside(_ service: String, _ script: String) async throws -> String {
                let result = try await project.devenv(["exec", service, "--", "sh", "-c", script])
                #expect(result.status == 0, "\(engine.name) \(service) \(script): \(result.stderr)")
                return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            // CapEff: CHOWN is bit 0, NET_ADMIN bit 12.
            let capabilities = try await inside("app", "grep CapEff /proc/self/status | cut -f2")
            let bits = UInt64(capabilities, radix: 16) ?? 0
            #expect(bits & 1 == 0, "\(engine.name): CHOWN kept: \(capabilities)")
            #expect(bits & (1 << 12) != 0, "\(engine.name): NET_ADMIN missing: \(capabilities)")
            #expect(try await inside("app", "ulimit -Sn; ulimit -Hn") == "1024\n2048", "\(engine.name)")
            #expect(try await inside("app", "cat /proc/sys/net/ipv4/tcp_keepalive_time") == "200", "\(engine.name)")
            let mounts = try await inside("app", "grep -E ' /(dev/shm|scratch) ' /proc/mounts")
            #expect(mounts.contains("/dev/shm tmpfs") && mounts.contains("size=65536k"), "\(engine.name): \(mounts)")
            #expect(mounts.contains("/scratch tmpfs") && mounts.contains("size=8192k"), "\(engine.name): \(mounts)")
            #expect(
                try await inside("app", "readlink /proc/1/ns/ipc")
                    == (try await inside("helper", "readlink /proc/1/ns/ipc")),
                "\(engine.name): app does not share helper's IPC namespace")
            #expect(try await inside("app", "hostname -d 2>/dev/null || domainname") == "example.cern.ch")

            let app = try #require(try await project.containers()["app"])
            let host = try await project.fixture.client.inspectContainer(app).HostConfig
            #expect(host?.Memory == 256 << 20, "\(engine.name)")
            #expect(host?.NanoCpus == 500_000_000, "\(engine.name)")
            let limit = try await inside(
                "app", "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes")
            if limit != "268435456" {
                // Applied, or said: never silently dropped.
                #expect(
                    up.stderr.contains("app") && up.stderr.lowercased().contains("limit"),
                    "\(engine.name): \(limit)\n\(up.stderr)")
            }
            #expect(try await project.devenv(["up"]).stderr.contains("2 up to date"), "\(engine.name)")
        }
    }
}
