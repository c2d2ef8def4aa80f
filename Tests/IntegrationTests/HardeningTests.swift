import Crypto
import DockerEngine
import Foundation
import Platform
import Postgres
import TestSupport
import Testing

/// Interrupted and concurrent operations: whatever point a SIGKILL hits, the next `up` reaches
/// the same state; two `up`s of one project serialize on its lock.
@Suite(.serialized) struct HardeningTests {
    /// A build, a PostgreSQL service provisioned and seeded, and an app gated on it: every
    /// phase a kill can hit.
    static func stackFiles(rows: Int) -> [String: String] {
        let copy = (1...rows).map { "\($0)\titem-\($0)\n" }.joined()
        let digest = SHA256.hash(data: Data(copy.utf8)).map { String(format: "%02x", $0) }.joined()
        let manifest = """
            {"format": 1, "name": "items", "database": "app", "tables": [{"schema": "public", "name": "items",
             "file": "public.items.copy", "columns": ["id", "name"], "rows": \(rows), "sha256": "\(digest)",
             "format": "text"}]}
            """
        let compose = """
            services:
              db:
                image: postgres:15
                environment: { POSTGRES_PASSWORD: pw, POSTGRES_DB: app }
                volumes: ["./init:/docker-entrypoint-initdb.d:ro", "pgdata:/var/lib/postgresql/data"]
                healthcheck: { test: ["CMD", "pg_isready", "-U", "postgres", "-d", "app"], interval: 1s, retries: 60 }
                x-devenv:
                  postgres:
                    roles: [{ name: reader }]
                  seed: { set: ./items, database: app }
              app:
                build: ./app
                command: ["sleep", "infinity"]
                init: true
                depends_on: { db: { condition: service_healthy } }
            volumes:
              pgdata:
            """
        return [
            "compose.yaml": compose,
            "init/items.sql": "CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL);\n",
            "items/manifest.json": manifest,
            "items/public.items.copy": copy,
            "app/Dockerfile": "FROM debian:bookworm-slim\nRUN echo built > /built\n",
        ]
    }

    @Test func sigkillAtRandomPointsConvergesWithoutDuplicatesOrHalfSeededData() async throws {
        let files = Self.stackFiles(rows: 100_000)
        try await DevenvProject(files: [:]).run { project in
            for (name, text) in files {
                let path = project.directory + "/" + name
                try FileManager.default.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try text.write(toFile: path, atomically: true, encoding: .utf8)
            }
            // Bounded: 20 kills at random points of an up that builds, creates, starts, waits,
            // provisions and seeds; each later up starts from whatever the last one left.
            var generator = SystemRandomNumberGenerator()
            for round in 0..<20 {
                let process = try project.spawn(["up"])
                try await Task.sleep(for: .milliseconds(Int.random(in: 20...3_000, using: &generator)))
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                _ = try await project.containers()  // records an issue on any duplicate
                if round % 5 == 4, round < 19 {
                    // Now and then from scratch, so the early phases (build, initdb) get hit too.
                    _ = try await project.devenv(["down", "--volumes", "--timeout", "1"])
                }
            }
            let final = try await project.devenv(["up"])
            #expect(final.status == 0, "\(final.stderr)")
            let rows = try await project.statusRows()
            #expect(rows.compactMap { $0["service"] as? String } == ["app", "db"])
            #expect(rows.allSatisfy { $0["state"] as? String == "running" })
            // Seeding is one transaction: all rows or none, recorded once in the ledger.
            let check = try await project.devenv([
                "exec", "db", "--", "psql", "-U", "postgres", "-d", "app", "-tAc",
                "SELECT count(*) || ' ' || (SELECT count(*) FROM devenv_seed_ledger) FROM items",
            ])
            #expect(check.stdout == "100000 1\n", "\(check.stderr)")
            #expect(try await project.devenv(["up"]).stderr.contains("2 up to date"))
        }
    }

    /// A killed `up`'s network create can land after the next `up` made its own: two networks of
    /// one name, and the engine refuses to start any container on it ("is ambiguous"). The next
    /// `up` keeps one, moves the containers already on the other (running and stopped) onto it,
    /// and starts a new container there (the final `up` of the random-kill test once failed so).
    @Test func aNetworkMadeTwiceByAKilledUpIsMergedAndTheNextUpConverges() async throws {
        func compose(_ marker: String) -> String {
            """
            services:
              app:
                image: debian:bookworm-slim
                command: ["sh", "-c", "trap exit TERM; sleep infinity & wait"]
                environment: {MARKER: "\(marker)"}
              other:
                image: debian:bookworm-slim
                command: ["sh", "-c", "trap exit TERM; sleep infinity & wait"]
            """
        }
        try await DevenvProject(files: ["compose.yaml": compose("1")]).run { project in
            let first = try await project.devenv(["up"])
            #expect(first.status == 0, "\(first.stderr)")
            let client = project.fixture.client
            let labels: [String: String?] = ["com.docker.compose.project": project.name]
            let name = "\(project.name)_default"
            let original = try #require(try await client.listNetworks(labels: labels).first { $0.Name == name })
            // The copy must sort first, so that the containers' network is the one to go.
            var copy: String?
            for _ in 0..<64 where copy == nil {
                var spec = NetworkCreate(name: name, labels: original.Labels ?? [:])
                spec.CheckDuplicate = false
                let id = try await client.createNetwork(spec)
                if id < original.Id { copy = id } else { try await client.removeNetwork(id) }
            }
            let kept = try #require(copy, "no network ID sorted below \(original.Id) in 64 tries")
            let containers = try await project.containers()
            try await client.stopContainer(try #require(containers["other"]), timeout: 1)
            try compose("2").write(toFile: project.directory + "/compose.yaml", atomically: true, encoding: .utf8)

            let next = try await project.devenv(["up"])
            #expect(next.status == 0, "\(next.stderr)")
            #expect(try await client.listNetworks(labels: labels).filter { $0.Name == name }.map(\.Id) == [kept])
            for (service, id) in try await project.containers() {
                let endpoint = try await client.inspectContainer(id).NetworkSettings?.Networks?[name]
                #expect(endpoint?.NetworkID == kept, "\(service) is not on the kept network")
            }
            let lookup = try await project.devenv(["exec", "app", "--", "getent", "hosts", "other"])
            #expect(lookup.status == 0, "app cannot resolve other: \(lookup.stderr)")
            #expect(try await project.devenv(["up"]).stderr.contains("2 up to date"))
        }
    }

    /// SIGKILL at each step of `up` — building, creating, starting (with a published port),
    /// provisioning, seeding, starting a dependent — and the next `up` succeeds at once: the
    /// same containers, none twice, every row seeded exactly once (issue #16).
    @Test func sigkillAtEachStepOfUpConvergesOnTheNextUp() async throws {
        var files = Self.stackFiles(rows: 20_000)
        let port = try LoopbackListener.freePort()
        files["compose.yaml"] = files["compose.yaml"]!.replacingOccurrences(
            of: "    image: postgres:15\n", with: "    image: postgres:15\n    ports: [\"127.0.0.1:\(port):5432\"]\n")
        let points = [
            DevenvProject.KillPoint(service: "app", status: "building"),
            DevenvProject.KillPoint(service: "db", status: "creating"),
            // Five times: the start is still in progress on the engine, its proxy holding the
            // port while the container is listed as created, in about a third of such kills.
            DevenvProject.KillPoint(service: "db", status: "starting"),
            DevenvProject.KillPoint(service: "db", status: "starting"),
            DevenvProject.KillPoint(service: "db", status: "starting"),
            DevenvProject.KillPoint(service: "db", status: "starting"),
            DevenvProject.KillPoint(service: "db", status: "starting"),
            DevenvProject.KillPoint(service: "db", status: "provisioning"),
            DevenvProject.KillPoint(service: "db", status: "provisioning", message: "seed items"),
            DevenvProject.KillPoint(service: "app", status: "starting"),
        ]
        try await DevenvProject(files: files).run { project in
            for point in points {
                _ = try await project.devenv(["down", "--volumes", "--timeout", "1"])
                #expect(try await project.killUp(at: point), "up ended before \(point)")
                _ = try await project.containers()  // records an issue on any duplicate
                let next = try await project.devenv(["up"])
                #expect(next.status == 0, "after a kill at \(point): \(next.stderr)")
                #expect(Set(try await project.containers().keys) == ["app", "db"], "after a kill at \(point)")
                let check = try await project.devenv([
                    "exec", "db", "--", "psql", "-U", "postgres", "-d", "app", "-tAc",
                    "SELECT count(*) || ' ' || (SELECT count(*) FROM devenv_seed_ledger) FROM items",
                ])
                #expect(check.stdout == "20000 1\n", "after a kill at \(point): \(check.stderr)")
            }
        }
    }

    /// SIGKILL while the app's migrations run (`x-devenv.django` with a `manage` stand-in that
    /// applies one slow, idempotent migration, as Django's are): the next `up` runs them again
    /// and succeeds, the migration applied once.
    @Test func sigkillWhileMigratingConvergesOnTheNextUp() async throws {
        let files = [
            "compose.yaml": """
            services:
              db:
                image: postgres:15
                environment: { POSTGRES_PASSWORD: pw, POSTGRES_DB: app }
                healthcheck: { test: ["CMD", "pg_isready", "-U", "postgres", "-d", "app"], interval: 1s, retries: 60 }
              app:
                build: ./app
                command: ["sleep", "infinity"]
                init: true
                environment: { PGPASSWORD: pw }
                depends_on: { db: { condition: service_healthy } }
                x-devenv: { django: { migrate: true, manage: ["sh", "/manage.sh"] } }
            """,
            "app/Dockerfile": "FROM postgres:15\nCOPY manage.sh /manage.sh\n",
            "app/manage.sh": """
            #!/bin/sh
            # manage.py stand-in: "migrate" applies one slow migration, once, as Django's would
            # (the killed run's exec goes on in the container: the lock keeps the two apart).
            [ "$1" = migrate ] || exit 0
            sleep 3
            psql -h db -U postgres -d app -v ON_ERROR_STOP=1 -c \\
              "SELECT pg_advisory_xact_lock(1); CREATE TABLE IF NOT EXISTS migrated (id int PRIMARY KEY);
               INSERT INTO migrated VALUES (1) ON CONFLICT DO NOTHING"

            """,
        ]
        try await DevenvProject(files: files).run { project in
            let point = DevenvProject.KillPoint(service: "app", status: "provisioning", message: "migrate")
            #expect(try await project.killUp(at: point), "up ended before \(point)")
            let next = try await project.devenv(["up"])
            #expect(next.status == 0, "\(next.stderr)")
            #expect(Set(try await project.containers().keys) == ["app", "db"])
            let check = try await project.devenv([
                "exec", "db", "--", "psql", "-U", "postgres", "-d", "app", "-tAc", "SELECT count(*) FROM migrated",
            ])
            #expect(check.stdout == "1\n", "\(check.stderr)")
        }
    }

    @Test func twoUpsOfOneProjectSerializeAndOtherProjectsDoNot() async throws {
        let slow = """
            services:
              slow:
                image: debian:bookworm-slim
                command: ["sh", "-c", "sleep 3 && touch /tmp/ready && sleep infinity"]
                init: true
                healthcheck: { test: ["CMD", "test", "-f", "/tmp/ready"], interval: 1s, retries: 30 }
            """
        try await DevenvProject(files: ["compose.yaml": slow]).run { project in
            try await DevenvProject(files: ["compose.yaml": slow]).run { other in
                async let first = project.devenv(["up"])
                // The second starts once the first holds the lock (its holder is written into
                // the lock file), not after a fixed delay a loaded machine could outrun.
                let lockFile = project.state + "/devenv/locks/\(project.name).lock"
                for _ in 0..<300 {
                    let holder = (try? String(contentsOfFile: lockFile, encoding: .utf8)) ?? ""
                    if holder.contains("devenv up") { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
                async let second = project.devenv(["up"])
                async let elsewhere = other.devenv(["up"])
                let (a, b, c) = try await (first, second, elsewhere)
                #expect(a.status == 0 && b.status == 0 && c.status == 0, "\(a.stderr)\(b.stderr)\(c.stderr)")
                // The second waited for the first, named it, and then had nothing left to do.
                #expect(b.stderr.contains("is busy: devenv up (pid "), "\(b.stderr)")
                #expect(b.stderr.contains("1 up to date"), "\(b.stderr)")
                #expect(!a.stderr.contains("is busy") && !c.stderr.contains("is busy"))
                #expect(try await project.containers().count == 1)
            }
        }
    }
}
