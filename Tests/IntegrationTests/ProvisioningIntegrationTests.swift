import DockerEngine
import Foundation
import Postgres
import TestSupport
import Testing

@testable import DevEnvCore
@testable import DevEnvRuntime

/// `x-devenv` provisioning inside containers: the DIALS stack's PostgreSQL roles and
/// databases, its password-protected Redis broker and its Django backend.
@Suite(.serialized) struct ProvisioningIntegrationTests {
    func json(_ text: String) -> [String: String] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String]) ?? [:]
    }

    @Test func theDialsStackIsProvisionedAsDeclared() async throws {
        try await DevenvProject(stack: "dials").run { project in
            let first = try await project.devenv(["up"])
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stderr.contains("db provisioned"))
            #expect(first.stderr.contains("backend provisioning: createsuperuser admin"))
            let second = try await project.devenv(["up"])
            #expect(second.status == 0, "\(second.stderr)")
            #expect(second.stderr.contains("10 up to date"))

            let env = json(try await project.devenv(["env", "--format", "json", "--show-secrets"]).stdout)
            let secrets = json(try await project.devenv(["secrets", "show", "--json"]).stdout)
            let rolePassword = try #require(secrets["db.roles.dials.password"])

            // The generated role logs into both databases with the password `devenv env` reports.
            for name in ["DIALS_TRACKER_DATABASE_URL", "DIALS_ETL_DATABASE_URL"] {
                let url = try #require(env[name])
                #expect(url.contains("dials:\(rolePassword)@127.0.0.1:"))
                let connection = try PostgresConnection(url: url)
                #expect(try connection.execute("SELECT current_user").scalar == "dials")
            }
            #expect(env["DJANGO_DATABASE_PASSWORD"] == rolePassword)
            // `devenv psql DB` opens that database as its owner.
            let psql = try await project.devenv([
                "psql", "dials_etl", "--", "-tAc", "SELECT current_user || '@' || current_database()",
            ])
            #expect(psql.status == 0, "\(psql.stderr)")
            #expect(psql.stdout == "dials@dials_etl\n")
            #expect(env["DJANGO_DATABASE_NAME"] == "dials_tracker")
            let tracker = try PostgresConnection(url: try #require(env["DATABASE_URL"]))
            #expect(
                try tracker.execute("SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'").scalar == "pg_trgm")
            // Django: migrated, one superuser after two ups, the site row set.
            #expect(
                try tracker.execute("SELECT count(*) FROM auth_user WHERE username = 'admin' AND is_superuser").scalar
                    == "1")
            #expect(try tracker.execute("SELECT domain FROM django_site WHERE id = 1").scalar == "dials.localhost")
            // x-devenv.seed loaded once, after the migrations, and left a state to reset to.
            #expect(first.stderr.contains("backend provisioned: seeded 1 tables, 2 rows into dials_tracker"))
            #expect(
                try tracker.execute("SELECT string_agg(name, ',' ORDER BY id) FROM auth_group").scalar
                    == "csc-experts,ecal-experts")
            try tracker.execute("DELETE FROM auth_group")
            tracker.close()
            let reset = try await project.devenv(["db", "reset", "dials_tracker", "--force"])
            #expect(reset.status == 0, "\(reset.stderr)")
            let again = try PostgresConnection(url: try #require(env["DATABASE_URL"]))
            #expect(try again.execute("SELECT count(*) FROM auth_group").scalar == "2")
            again.close()

            // The committed set changes (a pull) and the backend is recreated: the developer's
            // data stays, `up` succeeds and says how to take the new version.
            let manifest = project.directory + "/sample-data/groups/manifest.json"
            try (try String(contentsOfFile: manifest, encoding: .utf8) + "\n").write(
                toFile: manifest, atomically: true, encoding: .utf8)
            let pulled = try await project.devenv(["up"], environment: ["BACKEND_LOG_LEVEL": "debug"])
            #expect(pulled.status == 0, "\(pulled.stderr)")
            #expect(pulled.stderr.contains("holds an older version of dials-groups, kept; 'devenv seed --force'"))

            // Redis refuses unauthenticated commands and accepts the generated password.
            let redisText = try #require(env["REDIS_URL"])
            let redisURL = try #require(URLComponents(string: redisText))
            let port = try #require(redisURL.port)
            let password = try #require(secrets["redis-etl.password"])
            #expect(redisURL.password == password)
            let denied = ReadinessProbe.respExchange(host: "127.0.0.1", port: port, request: "PING\r\n", timeout: 2)
            #expect(denied?.hasPrefix("-NOAUTH") == true)
            let accepted = ReadinessProbe.respExchange(
                host: "127.0.0.1", port: port, request: "AUTH \(password)\r\nPING\r\n", timeout: 2)
            #expect(accepted?.hasPrefix("+OK") == true)
            #expect(env["REDIS_ETL_RESULTS_URL"]?.hasSuffix("/1") == true)

            // No generated secret in up's output, in `status --json`, in `env` or `env backend`
            // without --show-secrets, or on any container's command line.
            #expect(secrets.count >= 5)
            let plainEnv = try await project.devenv(["env"])
            let serviceEnv = try await project.devenv(["env", "backend", "--format", "json"])
            let status = try await project.devenv(["status", "--json"])
            #expect(plainEnv.stdout.contains("DATABASE_URL='postgresql://dials:***@127.0.0.1:"), "\(plainEnv.stdout)")
            for (key, secret) in secrets {
                for output in [
                    first.stdout, first.stderr, second.stdout, second.stderr, plainEnv.stdout, serviceEnv.stdout,
                    status.stdout,
                ] {
                    #expect(!output.contains(secret), "\(key) appeared in an output")
                }
            }
            for container in try await project.fixture.client.listContainers(
                all: true, labels: ["com.docker.compose.project": project.name])
            {
                let config = try await project.fixture.client.inspectContainer(container.Id).Config
                let commandLine = ((config?.Entrypoint ?? []) + (config?.Cmd ?? [])).joined(separator: " ")
                for (key, secret) in secrets {
                    #expect(!commandLine.contains(secret), "\(key) on the command line of \(container.Names)")
                }
            }
            // The redis-server process itself got the password from its configuration, not argv.
            let argv = try await project.devenv([
                "exec", "redis-etl", "--", "sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline",
            ])
            #expect(argv.stdout.contains("redis-server"))
            #expect(!argv.stdout.contains(password))
        }
    }
}
