import Foundation
import Postgres
import TestSupport
import Testing

/// A warm `up` (issue #19): after `down -v`, or for a new project from the same file, the
/// migrated and seeded databases come back from the machine's cache instead of being migrated
/// and seeded again; the superuser gets each project's own password; any change in what shapes
/// the databases runs the real thing; `gc` bounds the cache.
@Suite(.serialized) struct WarmUpTests {
    static let authenticate = """
        import os, sys
        from django.contrib.auth import authenticate
        sys.exit(0 if authenticate(username="admin", password=os.environ["PASSWORD"]) else 1)
        """

    @Test func aFreshClusterIsRestoredNotMigratedAndAChangedStackMigrates() async throws {
        try await DevenvProject(reference: "mlplayground").run { project in
            let cold = try await project.devenv(["up"])
            #expect(cold.status == 0, "\(cold.stderr)")
            #expect(cold.stderr.contains("migrate"), "\(cold.stderr)")
            #expect(!cold.stderr.contains("warm cache"), "\(cold.stderr)")
            let entries = try FileManager.default.contentsOfDirectory(atPath: project.state + "/devenv/warm")
            #expect(entries.filter { $0.hasSuffix(".tar") }.count == 1, "\(entries)")

            // After down -v: restored, not migrated or seeded; the data, the superuser and its
            // password, and the seeded snapshot `db reset` takes are all there.
            #expect(try await project.devenv(["down", "-v"]).status == 0)
            let warm = try await project.devenv(["up"])
            #expect(warm.status == 0, "\(warm.stderr)")
            #expect(warm.stderr.contains("restored mlplayground from the warm cache"), "\(warm.stderr)")
            #expect(!warm.stderr.contains("migrate"), "\(warm.stderr)")
            #expect(!warm.stderr.contains("seeded"), "\(warm.stderr)")
            let env = try await project.hostEnvironment()
            let database = try PostgresConnection(url: try #require(env["DATABASE_URL"]))
            try expectSanitizedSample(database, table: "histograms_lumisectionhistogram1d", rows: "1200")
            #expect(
                try database.execute("SELECT domain FROM django_site WHERE id = 1").scalar == "mlplayground.localhost")
            let password = try #require(try await project.secrets()["web.superuser.password"])
            let login = try await project.devenv([
                "exec", "-e", "PASSWORD=\(password)", "web", "--", "python3", "manage.py", "shell", "-c",
                Self.authenticate,
            ])
            #expect(login.status == 0, "the superuser logs in with this project's password: \(login.stderr)")
            try database.execute("DELETE FROM histograms_lumisectionhistogram1d")
            database.close()
            let reset = try await project.devenv(["db", "reset", "--force"])
            #expect(reset.status == 0, "\(reset.stderr)")
            let again = try PostgresConnection(url: try #require(env["DATABASE_URL"]))
            try expectSanitizedSample(again, table: "histograms_lumisectionhistogram1d", rows: "1200")
            again.close()

            // A new project from the same file shares the entry, with its own superuser password.
            let other = "\(project.name)-b"
            let otherEnvironment = project.environment
            defer {
                _ = try? runProcess(
                    devenvExecutable(), ["down", "-v", "--timeout", "1", "-p", other], environment: otherEnvironment,
                    currentDirectory: project.directory)
            }
            let second = try await runProcessAsync(
                devenvExecutable(), ["up", "-p", other], environment: otherEnvironment,
                currentDirectory: project.directory)
            #expect(second.status == 0, "\(second.stderr)")
            #expect(second.stderr.contains("from the warm cache"), "\(second.stderr)")
            // Its password is set with one UPDATE, hashed by devenv: no Django start for it.
            #expect(
                second.stderr.contains("superuser password of this project, set in auth_user"), "\(second.stderr)")
            let otherPassword = try #require(try await project.secrets(ofProject: other)["web.superuser.password"])
            #expect(otherPassword != password && !otherPassword.isEmpty)
            let otherLogin = try await runProcessAsync(
                devenvExecutable(),
                [
                    "exec", "-p", other, "-e", "PASSWORD=\(otherPassword)", "web", "--", "python3", "manage.py",
                    "shell", "-c", Self.authenticate,
                ], environment: otherEnvironment, currentDirectory: project.directory)
            #expect(otherLogin.status == 0, "\(otherLogin.stderr)")
            _ = try await runProcessAsync(
                devenvExecutable(), ["down", "-v", "--timeout", "1", "-p", other], environment: otherEnvironment,
                currentDirectory: project.directory)

            // DEVENV_WARM=0 runs the real thing; so does a change in what shapes the databases
            // (here the migrating service's environment), which makes a second entry.
            #expect(try await project.devenv(["down", "-v"]).status == 0)
            let off = try await project.devenv(["up"], environment: ["DEVENV_WARM": "0"])
            #expect(off.status == 0, "\(off.stderr)")
            #expect(off.stderr.contains("migrate") && !off.stderr.contains("warm cache"), "\(off.stderr)")
            #expect(try await project.devenv(["down", "-v"]).status == 0)
            let override = project.state + "/override.yaml"
            try "services:\n  web:\n    environment: { DJANGO_LOG_LEVEL: debug }\n".write(
                toFile: override, atomically: true, encoding: .utf8)
            let edited = try await project.devenv(["up", "-f", "compose.yaml", "-f", override])
            #expect(edited.status == 0, "\(edited.stderr)")
            #expect(edited.stderr.contains("migrate") && !edited.stderr.contains("warm cache"), "\(edited.stderr)")
            let now = try FileManager.default.contentsOfDirectory(atPath: project.state + "/devenv/warm")
            #expect(now.filter { $0.hasSuffix(".tar") }.count == 2, "\(now)")

            // gc keeps DEVENV_WARM_KEEP entries, the least recently used going first.
            let gc = try await runProcessAsync(
                devenvExecutable(), ["gc", "--json"],
                environment: project.environment.merging(["DEVENV_WARM_KEEP": "1"]) { $1 },
                currentDirectory: project.directory)
            #expect(gc.status == 0, "\(gc.stderr)")
            let removed = try JSONSerialization.jsonObject(with: Data(gc.stdout.utf8)) as? [String: Any]
            #expect((removed?["warm"] as? [String])?.count == 1, "\(gc.stdout)")
            let left = try FileManager.default.contentsOfDirectory(atPath: project.state + "/devenv/warm")
            #expect(left.count == 2, "one entry: its tar and record: \(left)")
        }
    }
}

/// The warm restore on every other engine: `pg_dump` and `pg_restore` run in the PostgreSQL
/// container (an exec and an upload), never through a container's own address. The app is a
/// stand-in for Django on the `postgres:15` image every engine here has: its `manage` command
/// migrates with psql, into two databases.
@Suite struct WarmUpEngineTests {
    static func files() -> [String: String] {
        var files = HardeningTests.stackFiles(rows: 500)
        files["compose.yaml"] = """
            services:
              db:
                image: postgres:15
                ports: ["5432"]
                volumes: ["pgdata:/var/lib/postgresql/data"]
                healthcheck: { test: ["CMD", "pg_isready", "-U", "postgres"], interval: 1s, retries: 60 }
                x-devenv:
                  postgres:
                    roles: [{ name: app }]
                    databases: [{ name: app, owner: app }, { name: app_audit, owner: app }]
              app:
                image: postgres:15
                entrypoint: ["sleep", "infinity"]
                init: true
                healthcheck: { disable: true }
                environment: { DJANGO_DATABASE_HOST: db, DJANGO_DATABASE_NAME: app, PGUSER: app, PGHOST: db }
                depends_on: { db: { condition: service_healthy } }
                x-devenv:
                  env: { PGPASSWORD: "{{ db.roles.app.password }}" }
                  django:
                    manage: ["sh", "-c", "[ $$1 = migrate ] && psql -v ON_ERROR_STOP=1 -d app -c 'CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL)' && psql -v ON_ERROR_STOP=1 -d app_audit -c 'CREATE TABLE runs (at timestamptz)'", "manage"]
                    migrate: true
                  seed: { set: ./items, database: app }
            volumes:
              pgdata:
            """
        return files
    }

    @Test(arguments: TestEngine.all)
    func aFreshClusterIsRestored(engine: TestEngine) async throws {
        try await DevenvProject(files: Self.files(), engine: engine).run { project in
            let cold = try await project.devenv(["up"])
            #expect(cold.status == 0, "\(engine.name): \(cold.stderr)")
            #expect(cold.stderr.contains("migrate"), "\(engine.name): \(cold.stderr)")
            #expect(try await project.devenv(["down", "-v"]).status == 0)
            let warm = try await project.devenv(["up"])
            #expect(warm.status == 0, "\(engine.name): \(warm.stderr)")
            #expect(
                warm.stderr.contains("restored app, app_audit from the warm cache"), "\(engine.name): \(warm.stderr)")
            #expect(!warm.stderr.contains("migrate"), "\(engine.name): \(warm.stderr)")
            let count = [
                "exec", "db", "--", "psql", "-U", "postgres", "-d", "app", "-tAc", "SELECT count(*) FROM items",
            ]
            #expect(try await project.devenv(count).stdout == "500\n", "\(engine.name)")
            let owner = [
                "exec", "db", "--", "psql", "-U", "postgres", "-d", "app_audit", "-tAc",
                "SELECT tableowner FROM pg_tables WHERE tablename = 'runs'",
            ]
            #expect(try await project.devenv(owner).stdout == "app\n", "\(engine.name): the tables keep their owner")
        }
    }
}
