import DockerEngine
import Foundation
import Postgres
import TestSupport
import Testing

/// The offline images of compose/images behave as the official ones for what devenv and
/// its users rely on.
@Suite struct LocalImageTests {
    /// Publishes `port` on a random 127.0.0.1 port and returns it.
    func publishedPort(_ docker: DockerClient, _ id: String, _ port: String) async throws -> Int {
        let ports = try await docker.inspectContainer(id).NetworkSettings?.Ports?[port] ?? nil
        let binding = try #require(ports?.first)
        #expect(binding.HostIp == "127.0.0.1")
        return try #require(Int(binding.HostPort ?? ""))
    }

    func loopbackPort(_ port: String) -> HostConfig {
        var host = HostConfig()
        host.PortBindings = [port: [PortBinding(hostIP: "127.0.0.1", hostPort: "")]]
        return host
    }

    @Test func postgresHonoursTheOfficialContract() async throws {
        try await EngineFixture().run { engine in
            let docker = engine.client
            let initdb = NSTemporaryDirectory() + "devenv-initdb-\(engine.project)"
            try FileManager.default.createDirectory(atPath: initdb, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: initdb) }
            try "CREATE TABLE seeded (note text); INSERT INTO seeded VALUES ('from initdb.d');"
                .write(toFile: initdb + "/01-seed.sql", atomically: true, encoding: .utf8)

            var config = ContainerConfig(image: "postgres:15")
            config.Env = ["POSTGRES_USER=dials", "POSTGRES_PASSWORD=s3cret with space", "POSTGRES_DB=dials_tracker"]
            config.Labels = engine.labels
            config.ExposedPorts = ["5432/tcp": EmptyObject()]
            var host = loopbackPort("5432/tcp")
            host.Binds = ["\(initdb):/docker-entrypoint-initdb.d:ro"]
            config.HostConfig = host
            let id = try await docker.createContainer(name: nil, config: config).Id
            try await docker.startContainer(id)
            let port = try await publishedPort(docker, id, "5432/tcp")

            // The entrypoint restarts the server after init: retry until the real one answers.
            // A cold initdb under the full suite's load on 2 cores has taken over a minute.
            var connection: PostgresConnection?
            let deadline = ContinuousClock.now + .seconds(180)
            while connection == nil, ContinuousClock.now < deadline {
                connection = try? PostgresConnection(parameters: [
                    "host": "127.0.0.1", "port": String(port), "user": "dials", "password": "s3cret with space",
                    "dbname": "dials_tracker", "connect_timeout": "2",
                ])
                if connection == nil { try await Task.sleep(for: .milliseconds(200)) }
            }
            if connection == nil {
                // Say why: the container's state and its last lines.
                let state = try? await docker.inspectContainer(id).State
                var lines = ""
                for try await frame in try await docker.logs(id, options: .init(tail: 30)) {
                    lines += String(decoding: frame.payload, as: UTF8.self)
                }
                let processes = try? await docker.exec(
                    container: id,
                    config: ExecConfig(cmd: [
                        // No procps in the image: each process's pid and command line from /proc.
                        "sh", "-c",
                        "for d in /proc/[0-9]*; do echo \"${d#/proc/} $(tr '\\0' ' ' < $d/cmdline)\"; done",
                    ]))
                Issue.record(
                    """
                    postgres:15 state \(state?.Status ?? "?") exit \(state?.ExitCode ?? -1), last lines:
                    \(lines)
                    processes:
                    \(processes?.stdoutText ?? "?")
                    """)
            }
            let db = try #require(connection, "postgres:15 did not accept connections on 127.0.0.1:\(port)")
            #expect(db.serverVersion / 10_000 == 15)
            #expect(try db.execute("SELECT note FROM seeded").scalar == "from initdb.d")
            #expect(try db.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").scalar == "t")
            #expect(try db.execute("SHOW server_encoding").scalar == "UTF8")
            #expect(try db.execute("SHOW data_directory").scalar == "/var/lib/postgresql/data")

            // Healthcheck tools are in the image.
            let ready = try await docker.exec(container: id, config: ExecConfig(cmd: ["pg_isready", "-U", "dials"]))
            #expect(ready.exitCode == 0)
            // A wrong password is refused over TCP (scram-sha-256), as in the official image.
            #expect(throws: PostgresError.self) {
                _ = try PostgresConnection(url: "postgresql://dials:wrong@127.0.0.1:\(port)/dials_tracker")
            }
        }
    }

    @Test func postgresRefusesToStartWithoutAPassword() async throws {
        try await EngineFixture().run { engine in
            var config = ContainerConfig(image: "postgres:15")
            config.Labels = engine.labels
            let id = try await engine.client.createContainer(name: nil, config: config).Id
            try await engine.client.startContainer(id)
            #expect(try await engine.client.waitContainer(id).StatusCode == 1)
            var text = ""
            for try await frame in try await engine.client.logs(id) { text += frame.text }
            #expect(text.contains("superuser password is not specified"))
        }
    }

    @Test func redisAnswersWithAndWithoutAPassword() async throws {
        try await EngineFixture().run { engine in
            let docker = engine.client
            var config = ContainerConfig(image: "redis:7")
            config.Labels = engine.labels
            config.Cmd = ["redis-server", "--requirepass", "pw", "--appendonly", "yes"]
            let id = try await docker.createContainer(name: nil, config: config).Id
            try await docker.startContainer(id)
            var pong = ""
            for _ in 0..<50 where pong != "PONG\n" {
                pong = try await docker.exec(
                    container: id, config: ExecConfig(cmd: ["redis-cli", "-a", "pw", "--no-auth-warning", "ping"])
                ).stdoutText
                if pong != "PONG\n" { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(pong == "PONG\n")
            let denied = try await docker.exec(container: id, config: ExecConfig(cmd: ["redis-cli", "ping"]))
            #expect(denied.stdoutText.contains("NOAUTH"))
            let info = try await docker.exec(
                container: id,
                config: ExecConfig(cmd: [
                    "sh", "-c", "stat -c %U /proc/1; pwd; redis-cli -a pw --no-auth-warning config get protected-mode",
                ]))
            // The server runs as the redis user in /data, as in the official image.
            #expect(info.stdoutText.hasPrefix("redis\n/data\n"))
            #expect(info.stdoutText.contains("protected-mode\nno"))
        }
    }

    /// testcontainers-python's PostgresContainer("postgres:15"), unchanged, against the local image.
    @Test func testcontainersPostgresWorksUnchanged() async throws {
        let python = try #require(
            ProcessInfo.processInfo.environment["DEVENV_TEST_PYTHON"],
            "DEVENV_TEST_PYTHON is not set: run 'make test' (it makes a venv with testcontainers and psycopg2-binary)")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "peers/testcontainers_postgres.py")
        let result = try await runProcessAsync(
            URL(fileURLWithPath: python), ["-W", "ignore", script.path],
            environment: ["TESTCONTAINERS_RYUK_DISABLED": "true"])
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(summary?["user"] as? String == "test")
        #expect(summary?["database"] as? String == "test")
        #expect((summary?["version"] as? Int).map { $0 / 10_000 } == 15)
        #expect(summary?["id"] as? Int == 1)
    }

    @Test func doctorReportsTheRealEngine() async throws {
        let engine = try await EngineFixture()
        let state = NSTemporaryDirectory() + "devenv-it-state-\(engine.project)"
        let result = try await runProcessAsync(
            devenvExecutable(), ["doctor", "--json"], environment: ["XDG_STATE_HOME": state])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let reported = (object["engine"] as? [String: Any])?["api_version"] as? String
        #expect(reported == (try await engine.client.apiVersion()))
        #expect(object["state_path"] as? String == state + "/devenv/state.db")
    }
}
