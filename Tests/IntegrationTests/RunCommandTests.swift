import DockerEngine
import Foundation
import Platform
import TestSupport
import Testing

/// `devenv run` on every engine (issue #18): dependencies up first, the service's environment
/// with `x-devenv` filled in, `-e` and `--entrypoint` over it, input forwarded, the exit code
/// passed through, no ports of the service taken, `--rm`, `--json`, and `up` never mistaking a
/// one-off for the service's own container.
@Suite(.serialized) struct RunCommandTests {
    static let compose = """
        services:
          cache:
            image: redis:7
            command: ["sh", "-c", "exec redis-server --requirepass \\"$$REDIS_PASSWORD\\""]
            healthcheck: { test: ["CMD", "true"], interval: 1s }
            x-devenv:
              redis: { password: generated }
              env: { REDIS_PASSWORD: "{{ cache.password }}" }
          app:
            image: debian:bookworm-slim
            command: ["sh", "-c", "trap exit TERM; sleep infinity & wait"]
            environment: { GREETING: hello }
            ports: ["127.0.0.1::80"]
            depends_on: { cache: { condition: service_healthy } }
            x-devenv:
              env: { CACHE_PASSWORD: "{{ cache.password }}" }
        """

    @Test(arguments: TestEngine.all)
    func aOneOffRunsWithTheServicesSettingsAndPassesItsExitCode(engine: TestEngine) async throws {
        try await DevenvProject(files: ["compose.yaml": Self.compose], engine: engine).run { project in
            // The dependency comes up first; the one-off sees the service's environment.
            let first = try await project.devenv([
                "run", "--rm", "app", "--", "sh", "-c",
                #"echo "$GREETING ${#CACHE_PASSWORD}"; getent hosts cache >/dev/null && echo cache-resolves; echo oops >&2; exit 3"#,
            ])
            #expect(first.status == 3, "\(engine.name): \(first.stderr)")
            let lines = first.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first?.hasPrefix("hello ") == true, "\(engine.name): \(first.stdout)")
            #expect(lines.first != "hello 0", "\(engine.name): x-devenv env not filled in")
            #expect(lines.contains("cache-resolves"), "\(engine.name): \(first.stdout)")
            #expect(first.stderr.contains("oops"), "\(engine.name): \(first.stderr)")
            let rows = try await project.statusRows()
            #expect(rows.map { $0["service"] as? String } == ["cache"], "\(engine.name): \(rows)")

            // Input, -e over the environment, --entrypoint, --json; the container stays without --rm.
            let second = try await project.devenv(
                [
                    "run", "--json", "-e", "GREETING=bye", "--entrypoint", "sh -c", "app", "--",
                    #"read line; echo "$GREETING $line""#,
                ], input: Data("from-stdin\n".utf8))
            #expect(second.status == 0, "\(engine.name): \(second.stderr)")
            #expect(second.stderr.contains("bye from-stdin"), "\(engine.name): \(second.stderr)")
            let result = try #require(
                try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as? [String: Any],
                "\(engine.name): \(second.stdout)")
            #expect(result["service"] as? String == "app")
            #expect(result["exit_code"] as? Int == 0)
            #expect(result["removed"] as? Bool == false)
            let name = try #require(result["container"] as? String)
            let kept = try await project.fixture.client.listContainers(
                all: true, labels: ["com.docker.compose.project": project.name, "com.docker.compose.oneoff": "True"])
            #expect(kept.map(\.name) == [name], "\(engine.name)")
            // It published nothing: the service's port stays the service's.
            #expect(kept.first?.Ports?.compactMap(\.PublicPort).isEmpty ?? true, "\(engine.name)")

            // `up` starts the service's own container and leaves the one-off alone; `down` removes both.
            #expect(try await project.devenv(["up"]).status == 0, "\(engine.name)")
            let services = Set(try await project.statusRows().compactMap { $0["service"] as? String })
            #expect(services == ["cache", "app"], "\(engine.name)")
            let again = try await project.fixture.client.listContainers(
                all: true, labels: ["com.docker.compose.project": project.name, "com.docker.compose.oneoff": "True"])
            #expect(again.map(\.Id) == kept.map(\.Id), "\(engine.name): up removed or duplicated the one-off")
            #expect(try await project.devenv(["down"]).status == 0, "\(engine.name)")
            let left = try await project.fixture.client.listContainers(
                all: true, labels: ["com.docker.compose.project": project.name])
            #expect(left.isEmpty, "\(engine.name): \(left.map(\.Names))")

            // --no-deps leaves the dependency down; an unknown service is a usage error.
            let alone = try await project.devenv(["run", "--rm", "--no-deps", "app", "--", "true"])
            #expect(alone.status == 0, "\(engine.name): \(alone.stderr)")
            #expect(try await project.statusRows().isEmpty, "\(engine.name)")
            let unknown = try await project.devenv(["run", "nope", "--", "true"])
            #expect(unknown.status == 2 && unknown.stderr.contains("no service 'nope'"), "\(unknown.stderr)")
        }
    }
}
