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
            try await project.expectHealthy(["backend", "beat", "db", "redis", "worker"])
            let rows = try await project.statusRows()
            #expect(rows.first { $0["service"] as? String == "backend" }?["health"] as? String == "healthy")

            let env = try await project.hostEnvironment()
            let database = try PostgresConnection(url: try #require(env["DATABASE_URL"]))
            #expect(try database.execute("SELECT current_user").scalar == "dials")
            #expect(try database.execute("SELECT count(*) FROM auth_user WHERE is_superuser").scalar == "1")
            #expect(env["REDIS_BROKER_URL"]?.hasSuffix("/1") == true)

            // The ETL path: an index task through the password-protected broker to the worker's
            // priority queue finds the two sample files on the EOS mount and queues their
            // ingestion on the bulk queue; the runs land in the workspace's own database.
            let task = try await project.devenv([
                "exec", "backend", "--", "python3", "manage.py", "shell", "-c",
                "from tables.tasks import index_files; "
                    + "print(index_files.apply_async(args=('tracker',), queue='tracker-priority').get(timeout=60))",
            ])
            #expect(task.status == 0, "\(task.stderr)")
            #expect(task.stdout == "2\n")
            let tracker = try PostgresConnection(url: try #require(env["DIALS_TRACKER_DATABASE_URL"]))
            let deadline = Date().addingTimeInterval(60)
            let local = "SELECT count(*) FROM tables_fileindex WHERE status = 'FINISHED' AND path LIKE '/eos/dqmio/%'"
            while try tracker.execute(local).scalar != "2",
                Date() < deadline
            {
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(try tracker.execute("SELECT count(*) FROM tables_run WHERE run_number > 382700").scalar == "3")
            // Next to the tracker sample set seeded on up (sample-data/dials).
            #expect(try tracker.execute("SELECT count(*) FROM tables_run WHERE run_number < 382700").scalar == "122")
            let again = try await project.devenv(["up"])
            #expect(again.stderr.contains("5 up to date"), "\(again.stderr)")

            // Containers gone, build context unchanged: the image (labelled with the context's
            // digest) is reused, not rebuilt — and one image serves three services.
            #expect(try await project.devenv(["down"]).status == 0)
            let recreated = try await project.devenv(["up"])
            #expect(recreated.status == 0, "\(recreated.stderr)")
            #expect(!recreated.stderr.contains("building"), "\(recreated.stderr)")
            // --build rebuilds the shared image once, not once per service using it.
            let rebuilt = try await project.devenv(["up", "--build"])
            #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
            #expect(rebuilt.stderr.components(separatedBy: " building: ").count == 2, "\(rebuilt.stderr)")
        }
    }
}
