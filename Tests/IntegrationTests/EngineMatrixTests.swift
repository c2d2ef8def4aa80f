import Crypto
import DockerEngine
import Foundation
import Postgres
import TestSupport
import Testing

@testable import DevEnvCore
@testable import DevEnvRuntime

/// The engine-facing core on every engine `make test` provides: the machine's rootful dockerd,
/// rootless Podman (as a non-root user), a remote dockerd reached over TLS on another address
/// (like CI's docker:dind), and the same remote engine over ssh. Everything devenv connects to
/// from this machine goes through the ports published on the engine's host.
@Suite struct EngineMatrixTests {
    @Test func everyEngineMakeTestSetUpIsHere() {
        #expect(TestEngine.missing.isEmpty, "engines make test was to provide: \(TestEngine.missing)")
    }

    /// PostgreSQL with a role and a database, Redis with a generated password, no published
    /// port in the file, and a three-row sample set.
    static let files: [String: String] = {
        let rows = "1\tone\n2\ttwo\n3\tthree\n"
        let digest = SHA256.hash(data: Data(rows.utf8)).map { String(format: "%02x", $0) }.joined()
        return [
            "compose.yaml": """
            services:
              db:
                image: postgres:15
                x-devenv:
                  postgres:
                    roles: [{ name: app }]
                    databases: [{ name: app, owner: app }]
              cache:
                image: redis:7
                x-devenv: { redis: { password: generated } }
            """,
            "items/manifest.json": """
            {"format": 1, "name": "items", "database": "app", "tables": [{"schema": "public", "name": "items",
             "file": "public.items.copy", "columns": ["id", "name"], "rows": 3, "sha256": "\(digest)",
             "format": "text"}]}
            """,
            "items/public.items.copy": rows,
        ]
    }()

    func json(_ text: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(text.utf8)) }

    @Test(arguments: TestEngine.all)
    func upProvisionSeedEnvTestAndDown(engine: TestEngine) async throws {
        let endpoints = try engine.hostEndpoints()
        try await DevenvProject(files: Self.files, engine: engine).run { project in
            let up = try await project.devenv(["up"])
            #expect(up.status == 0, "\(engine.name): \(up.stderr)")
            #expect(up.stderr.contains("db provisioned"), "\(up.stderr)")

            // Published on the engine's host, where this machine reaches it.
            let rows = try await project.statusRows()
            #expect(rows.compactMap { $0["service"] as? String } == ["cache", "db"])
            for row in rows {
                let port = try #require((row["ports"] as? [[String: Any]])?.first)
                #expect(port["host_ip"] as? String == endpoints.publishAddress, "\(engine.name): \(row)")
                #expect(row["image"] as? String == (row["service"] as? String == "db" ? "postgres:15" : "redis:7"))
            }

            let env = try await project.devenv(["env", "--format", "json", "--show-secrets"])
            let variables = try #require(try json(env.stdout) as? [String: String])
            let databaseURL = try #require(variables["DATABASE_URL"])
            let redisURL = try #require(variables["REDIS_URL"])
            #expect(databaseURL.contains("@\(endpoints.reachableHost):"), "\(databaseURL)")
            #expect(databaseURL.hasPrefix("postgresql://app:"))

            // The app's role owns its database: the schema goes in over the published port.
            let app = try PostgresConnection(url: databaseURL)
            try app.executeScript("CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL)")
            let seed = try await project.devenv(["seed", "./items"])
            #expect(seed.status == 0, "\(engine.name): \(seed.stderr)")
            let seeded = try PostgresConnection(url: databaseURL)
            #expect(try seeded.execute("SELECT string_agg(name, ',' ORDER BY id) FROM items").scalar == "one,two,three")

            // Redis wants its generated password.
            let redis = try #require(URLComponents(string: redisURL))
            let (host, port) = (try #require(redis.host), try #require(redis.port))
            let password = try #require(redis.password?.removingPercentEncoding)
            let denied = ReadinessProbe.respExchange(host: host, port: port, request: "PING\r\n", timeout: 5)
            #expect(denied?.hasPrefix("-NOAUTH") == true, "\(String(describing: denied))")
            let accepted = ReadinessProbe.respExchange(
                host: host, port: port, request: "AUTH \(password)\r\nPING\r\n", timeout: 5)
            #expect(accepted?.hasPrefix("+OK") == true, "\(String(describing: accepted))")

            // exec carries stdin to the process and its output back, over whatever transport.
            let exec = try await project.devenv(
                ["exec", "db", "--", "psql", "-U", "postgres", "-d", "app", "-tA"],
                input: Data("SELECT count(*) FROM items;\n".utf8))
            #expect(exec.stdout == "3\n", "\(engine.name): \(exec.stderr)")

            // A disposable copy for a test command, on the same engine.
            let test = try await project.devenv([
                "test", "--service", "db", "--", "sh", "-c",
                #"[ "$(psql "$DATABASE_URL" -tAc 'SELECT current_user')" = app ] && exit 7"#,
            ])
            #expect(test.status == 7, "\(engine.name): \(test.stderr)")

            let doctor = try await runProcessAsync(
                devenvExecutable(), ["doctor", "--json"], environment: project.environment,
                currentDirectory: project.directory)
            let report = try #require(try json(doctor.stdout) as? [String: Any])
            let reported = try #require(report["engine"] as? [String: Any])
            let expected: (String, Bool, String) =
                switch engine.name {
                case "podman": ("podman", true, "local")
                case "remote-tls", "ssh": ("docker", false, "remote")
                default: ("docker", false, "local")
                }
            #expect(reported["kind"] as? String == expected.0)
            #expect(reported["rootless"] as? Bool == expected.1)
            #expect(reported["location"] as? String == expected.2)

            let down = try await project.devenv(["down", "--volumes"])
            #expect(down.status == 0, "\(down.stderr)")
            let label: [String: String?] = ["com.docker.compose.project": project.name]
            #expect(try await project.fixture.client.listContainers(all: true, labels: label).isEmpty)
            #expect(try await project.fixture.client.listVolumes(labels: label).isEmpty)
            #expect(try await project.fixture.client.listNetworks(labels: label).isEmpty)
        }
    }

    @Test(arguments: TestEngine.all)
    func anUpKilledMidWayConverges(engine: TestEngine) async throws {
        try await DevenvProject(files: Self.files, engine: engine).run { project in
            // Bounded: three kills, each once the first container of that round exists.
            for _ in 0..<3 {
                let before = try await project.containers().count
                let process = try project.spawn(["up"])
                for _ in 0..<300 where try await project.containers().count <= before && process.isRunning {
                    try await Task.sleep(for: .milliseconds(20))
                }
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                _ = try await project.devenv(["down", "--timeout", "1"])
            }
            let process = try project.spawn(["up"])
            for _ in 0..<300 where try await project.containers().isEmpty {
                try await Task.sleep(for: .milliseconds(20))
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let up = try await project.devenv(["up"])
            #expect(up.status == 0, "\(engine.name): \(up.stderr)")
            let rows = try await project.statusRows()
            #expect(rows.count == 2 && rows.allSatisfy { $0["state"] as? String == "running" }, "\(rows)")
            #expect(try await project.devenv(["up"]).stderr.contains("2 up to date"))
            #expect(try await project.devenv(["down", "--volumes"]).status == 0)
            #expect(try await project.containers().isEmpty)
        }
    }
}
