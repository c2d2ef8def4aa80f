import DevEnvCore
import DockerEngine
import Foundation
import StateStore
import TestSupport
import Testing

/// `devenv test`, ephemeral projects and `devenv gc` against the real engine.
@Suite(.serialized) struct EphemeralTests {
    static let stack = """
        services:
          db:
            image: postgres:15
            healthcheck: { test: ["CMD", "pg_isready", "-U", "postgres"], interval: 1s, retries: 60 }
            x-devenv:
              postgres:
                roles: [{ name: app }]
                databases: [{ name: app, owner: app }]
          cache:
            image: redis:7
            x-devenv: { redis: { password: generated } }
        """

    /// `devenv gc` (it takes no project).
    func gc(_ project: DevenvProject, json: Bool = false) async throws -> ProcessResult {
        try await runProcessAsync(
            devenvExecutable(), ["gc"] + (json ? ["--json"] : []), environment: project.environment,
            currentDirectory: project.directory)
    }

    /// Containers, networks and volumes whose project name starts with `prefix`.
    func resources(_ engine: DockerClient, prefix: String) async throws -> Int {
        let containers = try await engine.listContainers(all: true, labels: ["dev.devenv.ephemeral": "true"])
            .filter { ($0.Labels?["com.docker.compose.project"] ?? "").hasPrefix(prefix) }
        let volumes = try await engine.listVolumes(labels: ["dev.devenv.ephemeral": "true"])
            .filter { ($0.Labels?["com.docker.compose.project"] ?? "").hasPrefix(prefix) }
        let networks = try await engine.listNetworks(labels: ["dev.devenv.ephemeral": "true"])
            .filter { ($0.Labels?["com.docker.compose.project"] ?? "").hasPrefix(prefix) }
        return containers.count + volumes.count + networks.count
    }

    @Test func testRunsTheCommandWithTheStacksVariablesAndCleansUp() async throws {
        try await DevenvProject(files: ["compose.yaml": Self.stack]).run { project in
            let result = try await project.devenv([
                "test", "--", "sh", "-c",
                #"psql "$DATABASE_URL" -tAc "SELECT current_user" && test -n "$REDIS_URL" && echo "$REDIS_URL" | grep -q '^redis://:[^@]*@127.0.0.1:' && exit 3"#,
            ])
            #expect(result.status == 3, "\(result.stderr)")
            #expect(result.stdout == "app\n")
            #expect(result.stderr.contains("devenv: test project \(project.name)-test-"))
            #expect(try await resources(project.fixture.client, prefix: project.name) == 0, "nothing left behind")

            let failed = try await project.devenv(["test", "--", "false"])
            #expect(failed.status == 1)
            let kept = try await project.devenv(["test", "--keep", "--", "true"])
            #expect(kept.status == 0)
            #expect(kept.stderr.contains("devenv: kept \(project.name)-test-"))
            #expect(try await resources(project.fixture.client, prefix: project.name) > 0)
            // Not expired: gc leaves it alone.
            let untouched = try await gc(project)
            #expect(untouched.status == 0)
            #expect(!untouched.stdout.contains(project.name))
            #expect(try await resources(project.fixture.client, prefix: project.name) > 0)
        }
    }

    @Test func aKilledTestRunExpiresAndGcRemovesOnlyThat() async throws {
        try await DevenvProject(files: ["compose.yaml": Self.stack]).run { project in
            // A normal project next to it must survive gc.
            #expect(try await project.devenv(["up", "cache"]).status == 0)
            let process = try project.spawn(["test", "--ttl", "3s", "--", "sleep", "30"])
            var started = false
            for _ in 0..<300 where !started {
                try await Task.sleep(for: .milliseconds(100))
                let running = try await project.fixture.client.listContainers(
                    all: false, labels: ["dev.devenv.ephemeral": "true"]
                ).contains {
                    ($0.Labels?["com.docker.compose.project"] ?? "").hasPrefix("\(project.name)-test-")
                        && $0.State == "running"
                }
                let count = try await resources(project.fixture.client, prefix: "\(project.name)-test-")
                started = running && count >= 3  // two containers and the network
            }
            #expect(started)
            // Past its expiry while the run lives: held, so neither gc nor another up removes it.
            try await Task.sleep(for: .seconds(4))
            let held = try await gc(project, json: true)
            #expect(held.status == 0)
            #expect(
                try await resources(project.fixture.client, prefix: "\(project.name)-test-") >= 3,
                "a live run keeps its stack past --ttl")
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            // gc removes it (unless another up, which reaps first, already did).
            let collected = try await gc(project, json: true)
            #expect(collected.status == 0)
            #expect(try await resources(project.fixture.client, prefix: "\(project.name)-test-") == 0)
            #expect(try await project.containers()["cache"] != nil, "gc never touches a project that is not ephemeral")
        }
    }

    /// The reaper removes only what it can prove this user's devenv made: look-alike labels on
    /// foreign containers (no signature, a forged one, another user's key) survive, and so does
    /// a running container whose holder is on another host; `gc` names only what it removed.
    @Test func gcRemovesOnlyWhatThisUserSignedAndNothingRunningForAnotherHost() async throws {
        try await DevenvProject(files: ["compose.yaml": Self.stack]).run { project in
            let client = project.fixture.client
            // A normal running project next to them (its up, which reaps too, comes first).
            #expect(try await project.devenv(["up", "cache"]).status == 0)
            let past = Date(timeIntervalSinceNow: -3600)
            let store = try StateStore(path: StateStore.defaultPath(environment: ["XDG_STATE_HOME": project.state]))
            let key = try Ephemeral.signingKey(in: store)
            // Named `<project>-test-…`, so the fixture removes them whatever happens.
            func container(_ suffix: String, _ labels: [String: String], running: Bool) async throws -> String {
                var config = ContainerConfig(image: "debian:bookworm-slim")
                config.Cmd = ["sleep", "300"]
                config.Labels = labels.merging(["com.docker.compose.project": "\(project.name)-test-\(suffix)"]) {
                    $1
                }
                let id = try await client.createContainer(name: "\(project.name)-test-\(suffix)", config: config).Id
                if running { try await client.startContainer(id) }
                return id
            }
            let lookAlike = [
                "dev.devenv.ephemeral": "true", "dev.devenv.owner": "someone",
                "dev.devenv.expires": String(Int(past.timeIntervalSince1970)),
            ]
            let survivors = [
                try await container("unsigned", lookAlike, running: false),
                try await container(
                    "forged", lookAlike.merging(["dev.devenv.signature": String(repeating: "0", count: 64)]) { $1 },
                    running: false),
                try await container(
                    "otherkey",
                    Ephemeral(owner: "someone", expires: past, key: "another user's key").labels(
                        project: "\(project.name)-test-otherkey"), running: false),
                try await container(
                    "elsewhere",
                    Ephemeral(
                        owner: "me", expires: past, holder: Holder(host: "another-host.example", pid: 1, started: "1"),
                        key: key
                    ).labels(project: "\(project.name)-test-elsewhere"), running: true),
            ]
            let mine = try await container(
                "mine", Ephemeral(owner: "me", expires: past, key: key).labels(project: "\(project.name)-test-mine"),
                running: false)

            let collected = try await gc(project, json: true)
            #expect(collected.status == 0, "\(collected.stderr)")
            let report = try JSONSerialization.jsonObject(with: Data(collected.stdout.utf8)) as? [String: Any]
            let removed = (report?["removed"] as? [String] ?? []).filter { $0.hasPrefix(project.name) }
            #expect(removed == ["\(project.name)-test-mine"], "gc reports only what it removed")
            for id in survivors {
                let survivor = try await client.inspectContainer(id)
                #expect(survivor.Id == id, "a container devenv cannot prove it made survives")
            }
            await #expect(throws: DockerEngineError.self) { _ = try await client.inspectContainer(mine) }
            #expect(try await project.containers()["cache"] != nil)
        }
    }

    @Test func upEphemeralExpires() async throws {
        try await DevenvProject(files: ["compose.yaml": Self.stack]).run { project in
            // Longer than the up itself takes even on a loaded machine (another test's up reaps
            // expired projects first, and nothing holds an `up --ephemeral` project).
            let up = try await project.devenv(["up", "--ephemeral", "--ttl", "10s", "cache"])
            #expect(up.status == 0, "\(up.stderr)")
            let env = try await project.devenv(["env", "--format", "json", "--show-secrets"])
            #expect(env.stdout.contains("REDIS_URL"), "a random loopback port was published")
            let labels = try await project.fixture.client.listContainers(
                all: true, labels: ["com.docker.compose.project": project.name]
            ).first?.Labels
            #expect(labels?["dev.devenv.holder"] == nil, "up returns at once, so no process holds the project")
            let expires = try #require(labels?["dev.devenv.expires"].flatMap(Double.init))
            try await Task.sleep(for: .seconds(max(0, expires + 1.5 - Date().timeIntervalSince1970)))
            #expect(try await gc(project).status == 0)
            #expect(try await project.containers().isEmpty, "expired, so collected (by this gc or another up)")
        }
    }
}
