import Foundation
import Postgres
import TestSupport
import Testing

/// A fresh DB on Demand instance in two commands, as README's DBA walkthrough: provision with
/// migrations, then seed. The instance is a native PostgreSQL server of its own
/// (`DEVENV_TEST_DBOD_URL`, started by `make test`); the admin is not a superuser.
@Suite(.serialized) struct DBoDIntegrationTests {
    static let admin = "dba"
    static let adminPassword = "dba-initial-password"

    func server() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["DEVENV_TEST_DBOD_URL"] else {
            Issue.record("DEVENV_TEST_DBOD_URL is not set: run 'make test' (it starts the second native server)")
            throw MissingTestServer()
        }
        return url
    }

    func url(_ base: String, user: String, password: String?, database: String) -> String {
        postgresURL(base, user: user, password: password, database: database)
    }

    /// Everything the walkthrough makes on the server goes, so every run starts from a fresh instance.
    func reset(_ base: String) throws {
        let db = try PostgresConnection(url: base)
        for database in try db.execute(
            "SELECT datname FROM pg_database WHERE datname IN ('dials', 'dials_tracker') OR datname LIKE 'devenv\\_%'"
        ).rows.compactMap({ $0[0] }) {
            try db.execute("DROP DATABASE \(try db.quoteIdentifier(database)) WITH (FORCE)")
        }
        for role in ["dials", Self.admin] {
            _ = try? db.execute("DROP OWNED BY \(role) CASCADE")
            try db.execute("DROP ROLE IF EXISTS \(role)")
        }
    }

    @Test func aFreshInstanceIsProvisionedMigratedAndSeededInTwoCommands() async throws {
        let base = try server()
        try reset(base)
        try PostgresConnection(url: base).execute(
            "CREATE ROLE \(Self.admin) LOGIN CREATEROLE CREATEDB PASSWORD '\(Self.adminPassword)'")
        // The default stack, with its backend image under a tag of this test's own: other tests
        // build and use `dials-backend` at the same time.
        let compose = DevenvProject.composeDirectory
        let name = "devenv-it-" + UUID().uuidString.prefix(8).lowercased()
        let file = try String(contentsOfFile: compose + "/default/compose.yaml", encoding: .utf8)
            .replacingOccurrences(of: "image: dials-backend", with: "image: \(name)-backend")
            .replacingOccurrences(of: "build: ../dials/backend", with: "build: \(compose)/dials/backend")
            .replacingOccurrences(of: "\"./eos:", with: "\"\(compose)/default/eos:")
        try await DevenvProject(files: ["compose.yaml": file], project: name).run { project in
            defer { try? reset(base) }
            let admin = url(base, user: Self.admin, password: Self.adminPassword, database: "postgres")
            // The default stack: role dials, databases dials and dials_tracker (pg_trgm), and the
            // Django backend that migrates both in a one-off container of its image.
            let provisioned = try await project.devenv(["provision", "--target", admin, "--migrate"])
            #expect(provisioned.status == 0, "\(provisioned.stderr)")
            #expect(provisioned.stdout.contains("db: create database dials_tracker owned by dials"))
            #expect(provisioned.stdout.contains("backend: migrated"), "\(provisioned.stdout)")
            let superuser = try PostgresConnection(
                url: url(base, user: "postgres", password: "devenv-test-admin", database: "dials_tracker"))
            #expect(try superuser.execute("SELECT count(*) > 0 FROM django_migrations").scalar == "t")
            #expect(
                try superuser.execute(
                    "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'django_migrations'"
                ).scalar == "dials")
            superuser.close()

            let seeded = try await project.devenv([
                "seed", compose + "/../sample-data/dials", "--target",
                url(base, user: Self.admin, password: Self.adminPassword, database: "dials_tracker"),
            ])
            #expect(seeded.status == 0, "\(seeded.stderr)")
            #expect(seeded.stdout.contains("into dials_tracker"))
            let check = try PostgresConnection(
                url: url(base, user: "postgres", password: "devenv-test-admin", database: "postgres"))
            #expect(try check.execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'devenv\\_%'").scalar == "0")
            #expect(try check.execute("SELECT pg_has_role('dba', 'dials', 'MEMBER')").scalar == "f")
            // Nothing of it ran on the engine for longer than the migration.
            #expect(
                try await project.fixture.client.listContainers(all: true, labels: ["dev.devenv.oneoff": "migrate"])
                    .isEmpty)
        }
    }
}
