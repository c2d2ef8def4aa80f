import Foundation
import Postgres
import TestSupport
import Testing

/// `compose/default`, what `make up` brings up: every service healthy or running, the URLs of
/// `devenv env` working, and a celery task going through the broker, a worker and back.
@Suite(.serialized) struct DefaultStackTests {
    @Test func theDefaultStackComesUpAndWorks() async throws {
        try await DevenvProject(reference: "default").run { project in
            let up = try await project.devenv(["up"])
            #expect(up.status == 0, "\(up.stderr)")
            let rows = try await project.statusRows()
            #expect(rows.compactMap { $0["service"] as? String } == ["backend", "beat", "db", "redis", "worker"])
            #expect(rows.allSatisfy { $0["state"] as? String == "running" })
            #expect(rows.first { $0["service"] as? String == "backend" }?["health"] as? String == "healthy")

            let env =
                (try JSONSerialization.jsonObject(
                    with: Data(try await project.devenv(["env", "--format", "json"]).stdout.utf8))
                    as? [String: String]) ?? [:]
            let database = try PostgresConnection(url: try #require(env["DATABASE_URL"]))
            #expect(try database.execute("SELECT current_user").scalar == "dials")
            #expect(try database.execute("SELECT count(*) FROM auth_user WHERE is_superuser").scalar == "1")
            #expect(env["REDIS_BROKER_URL"]?.hasSuffix("/1") == true)

            // A task goes through the password-protected broker to the worker, and its result back.
            let task = try await project.devenv([
                "exec", "backend", "--", "python3", "manage.py", "shell", "-c",
                "from dials.celery import refresh_runs; print(refresh_runs.delay().get(timeout=60))",
            ])
            #expect(task.status == 0, "\(task.stderr)")
            #expect(task.stdout == "1\n")
            #expect(try await project.devenv(["up"]).stderr.contains("5 up to date"))
        }
    }
}
