import DockerEngine
import Foundation
import Platform
import Postgres
import TestSupport
import Testing

/// `devenv up/down/status/env/exec` as a user runs them, against the real engine.
struct DevenvProject: CleansUp {
    let fixture: EngineFixture
    /// Where devenv runs: a fresh directory, or the reference stack's own `compose/NAME`
    /// (devenv writes nothing into a project directory; its state goes to `state`).
    let directory: String
    let state: String
    let ownsDirectory: Bool

    var name: String { fixture.project }

    /// A copy of a stack under Tests/IntegrationTests/stacks, or the given files, in a fresh
    /// directory; or, with `reference`, `compose/NAME` in place (it refers to its siblings).
    init(
        stack: String? = nil, reference: String? = nil, files: [String: String] = [:], engine: TestEngine = .ambient,
        project name: String? = nil
    ) async throws {
        fixture = try await EngineFixture(project: name, engine: engine)
        state = NSTemporaryDirectory() + "devenv-it-\(fixture.project)-state"
        if let reference {
            directory = Self.composeDirectory + "/" + reference
            ownsDirectory = false
            return
        }
        directory = NSTemporaryDirectory() + "devenv-it-\(fixture.project)"
        ownsDirectory = true
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if let stack {
            let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
                "stacks/\(stack)")
            for item in try FileManager.default.contentsOfDirectory(atPath: source.path) {
                try FileManager.default.copyItem(atPath: source.path + "/" + item, toPath: directory + "/" + item)
            }
        }
        for (name, text) in files {
            let path = directory + "/" + name
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
    }

    /// The repository's `compose/` (the DIALS test stack builds the DIALS reference backend).
    static let composeDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../compose").standardizedFileURL.path

    var environment: [String: String?] {
        var variables: [String: String?] = [
            "XDG_STATE_HOME": state, "NO_COLOR": "1", "DIALS_BACKEND": Self.composeDirectory + "/dials/backend",
        ]
        for (name, value) in fixture.engine.environment { variables[name] = value }
        return variables
    }

    /// `ARGS` with `-p NAME` added where every (sub)command accepts it: before `--` or at the end.
    func withProject(_ arguments: [String]) -> [String] {
        guard let separator = arguments.firstIndex(of: "--") else { return arguments + ["-p", name] }
        return Array(arguments[..<separator]) + ["-p", name] + arguments[separator...]
    }

    /// Runs `devenv ARGS -p NAME` to the end, off the cooperative pool.
    func devenv(
        _ arguments: [String], environment extra: [String: String?] = [:], input: Data? = nil
    ) async throws -> ProcessResult {
        try await runProcessAsync(
            devenvExecutable(), withProject(arguments),
            environment: environment.merging(extra) { $1 }, currentDirectory: directory, input: input)
    }

    /// `sh -c SCRIPT` in the service's container through `devenv exec`: its output, trimmed;
    /// a failure is recorded with the engine's name.
    func shell(_ service: String, _ script: String, on engine: TestEngine) async throws -> String {
        let result = try await devenv(["exec", service, "--", "sh", "-c", script])
        #expect(result.status == 0, "\(engine.name) \(service) \(script): \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Starts `devenv ARGS` without waiting for it.
    func spawn(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = devenvExecutable()
        process.arguments = withProject(arguments)
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Starts `devenv ARGS` in the background, its stdout and stderr collected as they come
    /// (`up --attach`, `watch`: commands that run until Ctrl-C).
    func background(_ arguments: [String]) throws -> BackgroundDevenv {
        try BackgroundDevenv(project: self, arguments: withProject(arguments))
    }

    /// Container ID by service.
    func containers() async throws -> [String: String] {
        let list = try await fixture.client.listContainers(all: true, labels: ["com.docker.compose.project": name])
        var byService: [String: String] = [:]
        for container in list {
            let service = container.Labels?["com.docker.compose.service"] ?? "?"
            #expect(byService[service] == nil, "two containers for \(service)")
            byService[service] = container.Id
        }
        return byService
    }

    func statusRows() async throws -> [[String: Any]] {
        let result = try await devenv(["status", "--json"])
        return (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]) ?? []
    }

    /// Runs `body`, then removes everything of the project, whether the body passed or not.
    func run(_ body: (DevenvProject) async throws -> Void) async throws {
        try await withCleanUp(body)
    }

    func cleanUp() async {
        _ = try? await devenv(["down", "--volumes", "--timeout", "1"])
        await fixture.cleanUp()
        if ownsDirectory { try? FileManager.default.removeItem(atPath: directory) }
        try? FileManager.default.removeItem(atPath: state)
    }
}

@Suite(.serialized) struct OrchestratorIntegrationTests {
    static let dialsServices = [
        "backend", "beat", "csc-bulk", "csc-priority", "db", "ecal-bulk", "ecal-priority", "frontend", "redis-cache",
        "redis-etl",
    ]

    @Test func dialsStackComesUpHealthyAndConverges() async throws {
        try await DevenvProject(stack: "dials").run { project in
            let first = try await project.devenv(["up"])
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stderr.contains("10 created"))

            let rows = try await project.statusRows()
            #expect(rows.compactMap { $0["service"] as? String } == Self.dialsServices)
            #expect(rows.allSatisfy { $0["state"] as? String == "running" })
            let backend = try #require(rows.first { $0["service"] as? String == "backend" })
            #expect(backend["health"] as? String == "healthy")
            let db = try #require(rows.first { $0["service"] as? String == "db" })
            let port = try #require((db["ports"] as? [[String: Any]])?.first)
            #expect(port["host_ip"] as? String == "127.0.0.1")
            #expect(port["container_port"] as? Int == 5432)

            // Nothing changed: nothing is touched.
            let ids = try await project.containers()
            let second = try await project.devenv(["up"])
            #expect(second.status == 0)
            #expect(second.stderr.contains("10 up to date"))
            #expect(try await project.containers() == ids)

            // One service's environment changes: exactly that one is recreated.
            let changed = try await project.devenv(["up"], environment: ["BACKEND_LOG_LEVEL": "debug"])
            #expect(changed.status == 0, "\(changed.stderr)")
            #expect(changed.stderr.contains("1 recreated, 9 up to date"))
            let after = try await project.containers()
            #expect(after["backend"] != ids["backend"])
            #expect(after.filter { $0.key != "backend" } == ids.filter { $0.key != "backend" })
            #expect(
                try await project.devenv(["exec", "backend", "--", "sh", "-c", "echo $LOG_LEVEL"]).stdout == "debug\n")
            let logs = try await project.devenv(["logs", "backend"])
            // gunicorn: its own log on stderr, the access log on stdout.
            #expect(logs.stderr.contains("backend | [") && logs.stdout.contains("\"GET /healthz HTTP/1.1\" 200"))

            // The generated values reached the containers and work.
            let ping = try await project.devenv([
                "exec", "redis-etl", "--", "sh", "-c", "redis-cli -a \"$REDIS_PASSWORD\" --no-auth-warning ping",
            ])
            #expect(ping.stdout == "PONG\n")
            let worker = try await project.devenv(["exec", "csc-bulk", "--", "sh", "-c", "echo $CELERY_BROKER_URL"])
            let redisPassword = try await project.devenv([
                "exec", "redis-etl", "--", "sh", "-c", "echo $REDIS_PASSWORD",
            ])
            .stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(redisPassword.count >= 24)
            #expect(worker.stdout == "redis://:\(redisPassword)@redis-etl:6379/0\n")
            #expect(try await project.devenv(["exec", "db", "--", "sh", "-c", "exit 4"]).status == 4)

            // The profile service is off until asked for.
            #expect(try await project.containers()["flower"] == nil)
            let monitoring = try await project.devenv(["up", "--profile", "monitoring", "flower"])
            #expect(monitoring.status == 0, "\(monitoring.stderr)")
            #expect(try await project.containers()["flower"] != nil)
        }
    }

    @Test func namedVolumesOutliveDownButNotDownVolumes() async throws {
        try await DevenvProject(stack: "dials").run { project in
            #expect(try await project.devenv(["up", "db"]).status == 0)
            let env = try await project.devenv(["env", "--format", "json", "--show-secrets"])
            let variables = try #require(
                try JSONSerialization.jsonObject(with: Data(env.stdout.utf8)) as? [String: String])
            let url = try #require(variables["DATABASE_URL"])
            #expect(
                url.hasPrefix("postgresql://dials:") && url.contains("@127.0.0.1:") && url.hasSuffix("/dials_tracker"))
            try PostgresConnection(url: url).executeScript(
                "CREATE TABLE kept (note text); INSERT INTO kept VALUES ('survives down')")

            // redis:7's VOLUME /data, not named in the file: an anonymous volume, which goes with
            // its container (a new one would not get it back); the named one stays.
            #expect(try await project.devenv(["up", "redis-cache"]).status == 0)
            let anonymous = try await project.fixture.client.listContainers(
                all: true, labels: ["com.docker.compose.project": project.name]
            ).flatMap { $0.Mounts ?? [] }.compactMap(\.Name).filter { !$0.hasPrefix(project.name) }
            #expect(anonymous.count == 1)
            let down = try await project.devenv(["down"])
            #expect(down.status == 0)
            #expect(try await project.containers().isEmpty)
            for name in anonymous {
                await #expect(throws: DockerEngineError.self) {
                    _ = try await project.fixture.client.inspectVolume(name)
                }
            }
            let volumes = try await project.fixture.client.listVolumes(labels: [
                "com.docker.compose.project": project.name
            ])
            #expect(volumes.map(\.Name).contains("\(project.name)_pgdata"))

            #expect(try await project.devenv(["up", "db"]).status == 0)
            let again = try #require(
                try JSONSerialization.jsonObject(
                    with: Data(try await project.devenv(["env", "--format", "json", "--show-secrets"]).stdout.utf8))
                    as? [String: String])
            let connection = try PostgresConnection(url: try #require(again["DATABASE_URL"]))
            #expect(try connection.execute("SELECT note FROM kept").scalar == "survives down")

            #expect(try await project.devenv(["down", "--volumes"]).status == 0)
            #expect(
                try await project.fixture.client.listVolumes(labels: ["com.docker.compose.project": project.name])
                    .isEmpty)
        }
    }

    static let small = """
        services:
          db:
            image: postgres:15
            environment: { POSTGRES_PASSWORD: pw }
            healthcheck: { test: ["CMD", "pg_isready", "-U", "postgres"], interval: 1s, retries: 60 }
          worker-a:
            image: debian:bookworm-slim
            command: ["sleep", "infinity"]
            init: true
            depends_on: { db: { condition: service_healthy } }
          worker-b:
            image: debian:bookworm-slim
            command: ["sleep", "infinity"]
            init: true
            depends_on: { db: { condition: service_healthy } }
        """

    @Test func sigkillDuringUpConvergesWithoutDuplicates() async throws {
        try await DevenvProject(files: ["compose.yaml": Self.small]).run { project in
            // Bounded: eight kills at fixed and random points of a cold up, then a clean up.
            let delays = [0.05, 0.2, 0.5, 1.0] + (0..<4).map { _ in Double.random(in: 0.01...1.5) }
            for delay in delays {
                let process = try project.spawn(["up"])
                try await Task.sleep(for: .seconds(delay))
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                _ = try await project.containers()  // records an issue on any duplicate
            }
            let final = try await project.devenv(["up"])
            #expect(final.status == 0, "\(final.stderr)")
            let rows = try await project.statusRows()
            #expect(rows.compactMap { $0["service"] as? String } == ["db", "worker-a", "worker-b"])
            #expect(rows.allSatisfy { $0["state"] as? String == "running" })
            #expect(try await project.devenv(["up"]).stderr.contains("3 up to date"))
        }
    }

    @Test func duplicateProjectNetworksAreResolved() async throws {
        try await DevenvProject(files: [
            "compose.yaml":
                "services:\n  one:\n    image: debian:bookworm-slim\n    command: [sleep, infinity]\n    init: true\n"
        ]).run { project in
            // What a killed up can leave: the engine finished its create after the next up listed.
            for _ in 0..<2 {
                var spec = NetworkCreate(
                    name: "\(project.name)_default", labels: ["com.docker.compose.project": project.name])
                spec.CheckDuplicate = false
                _ = try await project.fixture.client.createNetwork(spec)
            }
            #expect(
                try await project.fixture.client.listNetworks(labels: ["com.docker.compose.project": project.name])
                    .count == 2)
            let result = try await project.devenv(["up"])
            #expect(result.status == 0, "\(result.stderr)")
            let networks = try await project.fixture.client.listNetworks(labels: [
                "com.docker.compose.project": project.name
            ])
            #expect(networks.count == 1)
        }
    }

    @Test func ctrlCStopsWaitingPromptlyAndAReUpConverges() async throws {
        let stuck = """
            services:
              slow:
                image: debian:bookworm-slim
                command: ["sleep", "infinity"]
                init: true
                healthcheck: { test: ["CMD", "test", "-f", "/tmp/never"], interval: 1s, retries: 1000 }
              waiter:
                image: debian:bookworm-slim
                command: ["sleep", "infinity"]
                init: true
                depends_on: { slow: { condition: service_healthy } }
            """
        try await DevenvProject(files: ["compose.yaml": stuck]).run { project in
            let process = try project.spawn(["up"])
            // Interrupt while up waits on the health check: once `slow` exists (a fixed delay
            // could fall before it on a loaded machine).
            for _ in 0..<150 where try await project.containers()["slow"] == nil {
                try await Task.sleep(for: .milliseconds(100))
            }
            try await Task.sleep(for: .milliseconds(500))
            let interrupted = Date()
            kill(process.processIdentifier, SIGINT)
            process.waitUntilExit()
            #expect(process.terminationStatus == 130)
            #expect(Date().timeIntervalSince(interrupted) < 10, "exit within seconds of Ctrl-C")
            // Already-started containers keep running; the waiter was never created.
            let containers = try await project.containers()
            #expect(containers.keys.sorted() == ["slow"])
            #expect(try await project.fixture.client.inspectContainer(containers["slow"]!).State.Running)

            // The next up (with the healthcheck fixed) converges.
            try Self.small.write(toFile: project.directory + "/unused.yaml", atomically: true, encoding: .utf8)
            let fixed = stuck.replacingOccurrences(of: "/tmp/never", with: "/etc/hostname")
            try fixed.write(toFile: project.directory + "/compose.yaml", atomically: true, encoding: .utf8)
            let again = try await project.devenv(["up"])
            #expect(again.status == 0, "\(again.stderr)")
            #expect(try await project.containers().keys.sorted() == ["slow", "waiter"])
        }
    }

    @Test func aTakenPortIsNamedBeforeAnythingStarts() async throws {
        // Hold a loopback port the way another program would.
        let holder = try LoopbackListener()
        defer { withExtendedLifetime(holder) {} }
        let port = holder.port
        let stack =
            "services:\n  web:\n    image: debian:bookworm-slim\n    command: [sleep, infinity]\n    ports: [\"\(port):80\"]\n"
        try await DevenvProject(files: ["compose.yaml": stack]).run { project in
            let result = try await project.devenv(["up"])
            #expect(result.status == 1)
            #expect(result.stderr.contains("port \(port) on 127.0.0.1 for service 'web' is already in use by process "))
            #expect(result.stderr.contains("(pid \(getpid()))"))
            #expect(try await project.containers().isEmpty, "nothing was created")
        }
    }

    @Test func aCrashingServiceEndsUpWithItsReasonAndLogs() async throws {
        let stack = """
            services:
              broken:
                image: debian:bookworm-slim
                command: ["sh", "-c", "echo starting; echo 'fatal: no config' >&2; exit 3"]
                healthcheck: { test: ["CMD", "true"], interval: 1s }
              fine:
                image: debian:bookworm-slim
                command: ["sleep", "infinity"]
                init: true
              dependent:
                image: debian:bookworm-slim
                command: ["sleep", "infinity"]
                depends_on: { broken: { condition: service_healthy } }
            """
        try await DevenvProject(files: ["compose.yaml": stack]).run { project in
            let result = try await project.devenv(["up"])
            #expect(result.status == 1)
            #expect(result.stderr.contains("devenv: service 'broken' exited with code 3"))
            #expect(result.stderr.contains("broken | fatal: no config"))
            #expect(result.stderr.contains("service 'dependent' was not started: 'broken' failed"))
            // The others are left running.
            let rows = try await project.statusRows()
            #expect(rows.first { $0["service"] as? String == "fine" }?["state"] as? String == "running")
        }
    }

    @Test func orphansAreReportedThenRemovedOnRequest() async throws {
        let box = "    image: debian:bookworm-slim\n    command: [sleep, infinity]\n    init: true\n"
        // `debug` is in a profile: when the profile is not enabled it is neither started nor an orphan.
        let debug = "  debug:\n" + box + "    profiles: [debug]\n"
        let two = "services:\n  keep:\n" + box + "  gone:\n" + box + debug
        try await DevenvProject(files: ["compose.yaml": two]).run { project in
            #expect(try await project.devenv(["up", "--profile", "debug"]).status == 0)
            let one = "services:\n  keep:\n" + box + debug
            try one.write(toFile: project.directory + "/compose.yaml", atomically: true, encoding: .utf8)
            let reported = try await project.devenv(["up"])
            #expect(reported.status == 0)
            #expect(reported.stderr.contains("gone orphan: not in the stack file; remove with --remove-orphans"))
            #expect(!reported.stderr.contains("debug orphan"))
            #expect(try await project.containers().keys.sorted() == ["debug", "gone", "keep"])
            let removed = try await project.devenv(["up", "--remove-orphans"])
            #expect(removed.status == 0)
            #expect(try await project.containers().keys.sorted() == ["debug", "keep"])
        }
    }

    @Test func execForwardsStdinOutputAndExitCode() async throws {
        try await DevenvProject(files: [
            "compose.yaml":
                "services:\n  box:\n    image: debian:bookworm-slim\n    command: [sleep, infinity]\n    init: true\n"
        ]).run { project in
            #expect(try await project.devenv(["up"]).status == 0)
            let lines = (1...2000).map { "line \($0)" }.joined(separator: "\n") + "\n"
            let result = try await project.devenv(
                ["exec", "box", "--", "sh", "-c", "wc -l; echo to-stderr >&2; exit 7"], input: Data(lines.utf8))
            #expect(result.status == 7)
            #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "2000")
            #expect(result.stderr == "to-stderr\n")
            let missing = try await project.devenv(["exec", "nosuch", "--", "true"])
            #expect(missing.status == 1)
            #expect(missing.stderr.contains("service 'nosuch' of \(project.name) is not running"))
        }
    }

    @Test func jsonEventsAreOnePerLine() async throws {
        try await DevenvProject(files: [
            "compose.yaml":
                "services:\n  one:\n    image: debian:bookworm-slim\n    command: [sleep, infinity]\n    init: true\n"
        ]).run { project in
            let result = try await project.devenv(["up", "--json"])
            #expect(result.status == 0)
            let events = result.stdout.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            #expect(events.count == result.stdout.split(separator: "\n").count)
            #expect(events.contains { $0["service"] as? String == "one" && $0["status"] as? String == "started" })
            #expect(events.last?["status"] as? String == "done")
        }
    }
}

/// A devenv command running in the background: what it printed so far, Ctrl-C, its end.
final class BackgroundDevenv: Sendable {
    let process: Process
    let stdout = Mutexed("")
    let stderr = Mutexed("")
    private let pipes: (Pipe, Pipe)

    init(project: DevenvProject, arguments: [String]) throws {
        process = Process()
        process.executableURL = devenvExecutable()
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: project.directory)
        var environment = ProcessInfo.processInfo.environment
        for case let (key, value?) in project.environment { environment[key] = value }
        process.environment = environment
        pipes = (Pipe(), Pipe())
        for (pipe, text) in [(pipes.0, stdout), (pipes.1, stderr)] {
            pipe.fileHandleForReading.readabilityHandler = { handle in
                let data = handle.availableData
                text.update { $0 += String(decoding: data, as: UTF8.self) }
            }
        }
        process.standardOutput = pipes.0
        process.standardError = pipes.1
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// Sends SIGINT (Ctrl-C) and waits up to `seconds` for the end; its exit status, or nil
    /// when it still runs (then it is terminated).
    func interrupt(waiting seconds: Int = 30) async throws -> Int32? {
        process.interrupt()
        let deadline = ContinuousClock.now + .seconds(seconds)
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        pipes.0.fileHandleForReading.readabilityHandler = nil
        pipes.1.fileHandleForReading.readabilityHandler = nil
        if process.isRunning {
            process.terminate()
            return nil
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}
