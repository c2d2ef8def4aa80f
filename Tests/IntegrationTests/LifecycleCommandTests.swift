import DockerEngine
import Foundation
import TestSupport
import Testing

/// `stop`, `start`, `restart`, `kill`, `pause`, `unpause` and `rm` on every engine (issue
/// #18): each acts on the named services' containers only, never creates one, and `up` brings
/// back whatever `rm` removed.
@Suite(.serialized) struct LifecycleCommandTests {
    static let compose = """
        services:
          base:
            image: debian:bookworm-slim
            command: ["sh", "-c", "trap exit TERM; sleep infinity & wait"]
          web:
            image: debian:bookworm-slim
            command: ["sh", "-c", "trap exit TERM; sleep infinity & wait"]
            depends_on: [base]
        """

    @Test(arguments: TestEngine.all)
    func eachCommandActsOnTheNamedServicesOnly(engine: TestEngine) async throws {
        try await DevenvProject(files: ["compose.yaml": Self.compose], engine: engine).run { project in
            #expect(try await project.devenv(["up"]).status == 0, "\(engine.name)")
            func states() async throws -> [String: String] {
                var found: [String: String] = [:]
                for row in try await project.statusRows() {
                    if let service = row["service"] as? String { found[service] = row["state"] as? String }
                }
                return found
            }
            func run(_ arguments: [String]) async throws -> ProcessResult {
                let result = try await project.devenv(arguments)
                #expect(result.status == 0, "\(engine.name) \(arguments): \(result.stderr)")
                return result
            }

            let stop = try await run(["stop", "web", "--json"])
            #expect(stop.stdout.contains(#""service":"web","status":"stopped""#), "\(engine.name): \(stop.stdout)")
            #expect(try await states() == ["base": "running", "web": "exited"], "\(engine.name)")
            _ = try await run(["start", "web"])
            #expect(try await states() == ["base": "running", "web": "running"], "\(engine.name)")

            let containers = try await project.containers()
            let base = try #require(containers["base"])
            let startedBefore = try await project.fixture.client.inspectContainer(base).State.StartedAt
            _ = try await run(["restart", "-t", "2"])
            let startedAfter = try await project.fixture.client.inspectContainer(base).State.StartedAt
            #expect(startedAfter != startedBefore, "\(engine.name): base was not restarted")
            #expect(try await project.containers() == containers, "\(engine.name): restart made new containers")

            let pause = try await project.devenv(["pause", "base"])
            if pause.status == 1,
                pause.stderr.contains("can not pause containers on rootless containers with cgroup V1")
            {
                // Rootless Podman on a cgroup v1 host has no freezer for its containers: the
                // engine's own words, exit 1, and the container left running.
                #expect(engine.name == "podman", "\(engine.name): \(pause.stderr)")
                #expect(try await states()["base"] == "running", "\(engine.name)")
            } else {
                #expect(pause.status == 0, "\(engine.name): \(pause.stderr)")
                #expect(try await states()["base"] == "paused", "\(engine.name)")
                _ = try await run(["unpause"])
                #expect(try await states()["base"] == "running", "\(engine.name)")
            }

            _ = try await run(["kill", "-s", "SIGKILL", "web"])
            #expect(try await states()["web"] == "exited", "\(engine.name)")
            let exitCode = try await project.fixture.client.inspectContainer(try #require(containers["web"])).State
                .ExitCode
            #expect(exitCode == 137, "\(engine.name)")

            let refused = try await project.devenv(["rm", "base"])
            #expect(refused.status == 1, "\(engine.name)")
            #expect(refused.stderr.contains("base is running; stop it first, or use 'devenv rm --stop'"))
            _ = try await run(["rm", "web"])
            #expect(try await states() == ["base": "running"], "\(engine.name)")
            let noContainer = try await project.devenv(["start", "web"])
            #expect(noContainer.status == 1, "\(engine.name)")
            #expect(
                noContainer.stderr.contains("web has no container; 'devenv up web' creates it"), "\(noContainer.stderr)"
            )

            _ = try await run(["rm", "--stop", "base"])
            #expect(try await states().isEmpty, "\(engine.name)")
            let unknown = try await project.devenv(["stop", "nosuch"])
            #expect(unknown.status == 2 && unknown.stderr.contains("no service 'nosuch'"), "\(unknown.stderr)")
            let back = try await run(["up"])
            #expect(back.stderr.contains("2 created"), "\(engine.name): \(back.stderr)")
        }
    }
}

/// `port`, `images` and `top` on every engine (issue #18), text and `--json`.
@Suite(.serialized) struct InspectCommandTests {
    @Test(arguments: TestEngine.all)
    func portImagesAndTopDescribeTheRunningStack(engine: TestEngine) async throws {
        let compose = """
            services:
              app:
                image: debian:bookworm-slim
                command: ["sh", "-c", "trap exit TERM; sleep infinity & wait"]
                ports: ["5678"]
            """
        try await DevenvProject(files: ["compose.yaml": compose], engine: engine).run { project in
            #expect(try await project.devenv(["up"]).status == 0, "\(engine.name)")
            let status = try #require(try await project.statusRows().first)
            let published = try #require((status["ports"] as? [[String: Any]])?.first)
            let hostPort = try #require(published["host_port"] as? Int)
            let hostIP = published["host_ip"] as? String ?? ""

            let port = try await project.devenv(["port", "app", "5678"])
            #expect(
                port.status == 0 && port.stdout == "\(hostIP):\(hostPort)\n",
                "\(engine.name): \(port.stdout)\(port.stderr)")
            let portJSON = try await project.devenv(["port", "app", "5678", "--json"])
            #expect(portJSON.stdout.contains("\"host_port\" : \(hostPort)"), "\(engine.name): \(portJSON.stdout)")
            let missing = try await project.devenv(["port", "app", "80"])
            #expect(
                missing.status == 1 && missing.stderr.contains("app does not publish 80/tcp; it publishes 5678/tcp"))

            let images = try await project.devenv(["images", "--json"])
            let rows = try JSONSerialization.jsonObject(with: Data(images.stdout.utf8)) as? [[String: Any]] ?? []
            #expect(rows.first?["image"] as? String == "debian:bookworm-slim", "\(engine.name): \(images.stdout)")
            #expect(((rows.first?["id"] as? String) ?? "").count >= 12, "\(engine.name): \(images.stdout)")
            #expect((rows.first?["size"] as? Int ?? 0) > 1_000_000, "\(engine.name): \(images.stdout)")
            #expect(try await project.devenv(["images"]).stdout.contains("debian:bookworm-slim"))

            let top = try await project.devenv(["top", "--json"])
            #expect(top.stdout.contains("sleep infinity"), "\(engine.name): \(top.stdout)\(top.stderr)")
            let text = try await project.devenv(["top", "app"])
            #expect(text.stdout.hasPrefix("app\n") && text.stdout.contains("sleep"), "\(engine.name): \(text.stdout)")
        }
    }
}

/// `build` and `pull` (issue #18): build rebuilds what has `build:` even when up to date, on
/// every engine; pull fetches what names an image even when present (the suite's private
/// registry, with a login from `$DOCKER_CONFIG`).
@Suite(.serialized) struct BuildPullCommandTests {
    @Test(arguments: TestEngine.all)
    func buildRebuildsOnlyWhatIsBuilt(engine: TestEngine) async throws {
        let files = [
            "compose.yaml": """
            services:
              app:
                build: ./app
                command: ["sleep", "infinity"]
              other:
                image: debian:bookworm-slim
            """,
            "app/Dockerfile": "FROM debian:bookworm-slim\nRUN echo built > /built\n",
        ]
        try await DevenvProject(files: files, engine: engine).run { project in
            let first = try await project.devenv(["build", "--json"])
            #expect(first.status == 0, "\(engine.name): \(first.stderr)")
            #expect(first.stdout.contains(#""service":"app","status":"built""#), "\(engine.name): \(first.stdout)")
            #expect(!first.stdout.contains(#""service":"other""#), "\(engine.name): \(first.stdout)")
            let image = try await project.fixture.client.imageIfPresent("\(project.name)-app")
            #expect(image != nil, "\(engine.name)")
            let again = try await project.devenv(["build", "app", "--json"])
            #expect(again.stdout.contains(#""service":"app","status":"built""#), "\(engine.name): \(again.stdout)")
            let up = try await project.devenv(["up"])
            #expect(up.status == 0 && !up.stderr.contains("app building"), "\(engine.name): \(up.stderr)")
            try? await project.fixture.client.removeImage("\(project.name)-app", force: true)
        }
    }

    @Test func pullFetchesEvenWhatIsPresent() async throws {
        let registry = try RegistryTests.Registry.fromEnvironment()
        let image = registry.image("pull-command")
        let files = ["compose.yaml": RegistryTests.stack(image)]
        try await DevenvProject(files: files).run { project in
            let config = try RegistryTests().dockerConfig(
                project, #"{"auths": {"\#(registry.address)": {"auth": "\#(registry.basicAuth)"}}}"#)
            await RegistryTests().forget(image, project.fixture.client)
            let pull = try await project.devenv(["pull"], environment: ["DOCKER_CONFIG": config])
            #expect(pull.status == 0, "\(pull.stderr)")
            #expect(pull.stderr.contains("app pulled"), "\(pull.stderr)")
            #expect(try await project.fixture.client.imageIfPresent(image) != nil)
            let again = try await project.devenv(["pull"], environment: ["DOCKER_CONFIG": config])
            #expect(again.stderr.contains("app pulled"), "pulled again although present: \(again.stderr)")
            #expect(!again.stderr.contains(registry.password) && !again.stderr.contains(registry.basicAuth))
            await RegistryTests().forget(image, project.fixture.client)
        }
    }
}
