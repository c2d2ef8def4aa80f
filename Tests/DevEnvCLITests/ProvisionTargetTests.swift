import Foundation
import Postgres
import TestSupport
import Testing

/// The suites that use the one native PostgreSQL of `make test` as a whole server, one test at
/// a time: the provisioning refusal check looks at every database there, and seeding makes some.
@Suite(.serialized) enum NativeServerTests {}

extension NativeServerTests {
    /// `devenv provision --target` against the native PostgreSQL, the stand-in for a managed (DBoD) server.
    @Suite struct ProvisionTargetTests {
        let url: String
        let suffix = String(UUID().uuidString.prefix(6)).lowercased()
        let directory: String
        let state: String

        init() throws {
            url = try nativeServerURL()
            directory = NSTemporaryDirectory() + "devenv-provision-\(suffix)"
            state = directory + "-state"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }

        func write(_ stack: String) throws {
            try stack.write(toFile: directory + "/compose.yaml", atomically: true, encoding: .utf8)
        }

        func devenv(_ arguments: [String]) throws -> ProcessResult {
            try runProcess(
                devenvExecutable(), arguments,
                environment: ["XDG_STATE_HOME": state, "DOCKER_HOST": "unix:///nonexistent.sock"],
                currentDirectory: directory)
        }

        /// The server's secrets (kept apart from the local stack's).
        func secrets() throws -> [String: String] {
            let result = try devenv(["secrets", "show", "--target", url, "--json"])
            return (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: String]) ?? [:]
        }

        func admin() throws -> PostgresConnection { try PostgresConnection(url: url) }

        func with(_ url: String, user: String, password: String, database: String) -> String {
            postgresURL(url, user: user, password: password, database: database)
        }

        /// Drops what a test created, whatever happened.
        func cleanUp(databases: [String], roles: [String]) {
            guard let admin = try? admin() else { return }
            for database in databases {
                _ = try? admin.execute("DROP DATABASE IF EXISTS \(try admin.quoteIdentifier(database)) WITH (FORCE)")
            }
            for role in roles { _ = try? admin.execute("DROP ROLE IF EXISTS \(try admin.quoteIdentifier(role))") }
        }

        var stack: String {
            """
            name: dbod-\(suffix)
            services:
              db:
                image: postgres:15
                x-devenv:
                  postgres:
                    roles:
                      - name: dials_\(suffix)
                      - name: reader_\(suffix)
                        login: false
                    databases:
                      - name: tracker_\(suffix)
                        owner: dials_\(suffix)
                        extensions: [pg_trgm]
                        grants: [{ role: reader_\(suffix), privileges: [connect, select] }]
                      - name: etl_\(suffix)
                        owner: dials_\(suffix)
            """
        }

        @Test func createsWhatIsMissingThenNothing() throws {
            defer {
                cleanUp(
                    databases: ["tracker_\(suffix)", "etl_\(suffix)"], roles: ["dials_\(suffix)", "reader_\(suffix)"])
            }
            try write(stack)
            let first = try devenv(["provision", "--target", url])
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stdout.contains("db: create role dials_\(suffix)"))
            #expect(first.stdout.contains("db: create database tracker_\(suffix) owned by dials_\(suffix)"))
            #expect(first.stdout.contains("db: create extension pg_trgm in tracker_\(suffix)"))

            let second = try devenv(["provision", "--target", url])
            #expect(second.status == 0)
            #expect(second.stdout == "db: the server already matches the file; no statements issued\n")

            // The role logs into both databases with the generated password.
            let password = try #require(try secrets()["db.roles.dials_\(suffix).password"])
            #expect(password.count >= 24)
            for database in ["tracker_\(suffix)", "etl_\(suffix)"] {
                let connection = try PostgresConnection(
                    url: with(url, user: "dials_\(suffix)", password: password, database: database))
                #expect(try connection.execute("SELECT current_user").scalar == "dials_\(suffix)")
            }
            let tracker = try PostgresConnection(
                url: with(url, user: "dials_\(suffix)", password: password, database: "tracker_\(suffix)"))
            #expect(
                try tracker.execute("SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'").scalar == "pg_trgm")
            // The SCRAM verifier, not the clear text, is what the server stored.
            let stored = try admin().execute(
                "SELECT rolpassword FROM pg_authid WHERE rolname = $1", ["dials_\(suffix)"]
            )
            .scalar
            #expect(stored?.hasPrefix("SCRAM-SHA-256$") == true)
            // Future tables of the owner are readable by the reader role.
            try tracker.execute("CREATE TABLE runs (id int)")
            let granted = try PostgresConnection(
                url: with(url, user: "postgres", password: "devenv-test-admin", database: "tracker_\(suffix)")
            )
            .execute("SELECT has_table_privilege($1, 'public.runs', 'SELECT')", ["reader_\(suffix)"]).scalar
            #expect(granted == "t")
        }

        @Test func aDryRunChangesNothingAndShowsNoSecret() throws {
            defer {
                cleanUp(
                    databases: ["tracker_\(suffix)", "etl_\(suffix)"], roles: ["dials_\(suffix)", "reader_\(suffix)"])
            }
            try write(stack)
            let result = try devenv(["provision", "--target", url, "--dry-run"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(
                result.stdout.contains(
                    "CREATE ROLE \"dials_\(suffix)\" WITH LOGIN NOCREATEDB CONNECTION LIMIT -1 PASSWORD '***';"))
            #expect(result.stdout.contains("CREATE DATABASE \"tracker_\(suffix)\" OWNER \"dials_\(suffix)\";"))
            #expect(result.stderr.contains("none issued"))
            for secret in try secrets().values {
                #expect(!result.stdout.contains(secret) && !result.stderr.contains(secret))
            }
            #expect(
                try admin().execute("SELECT count(*) FROM pg_roles WHERE rolname = $1", ["dials_\(suffix)"]).scalar
                    == "0")
            #expect(
                try admin().execute("SELECT count(*) FROM pg_database WHERE datname = $1", ["tracker_\(suffix)"]).scalar
                    == "0")
        }

        @Test func hostileIdentifiersAreCreatedVerbatim() throws {
            let role = "we\"ird; DROP TABLE sentinel_\(suffix); --"
            let database = "my db; DROP DATABASE postgres; -- \(suffix)"
            defer {
                cleanUp(databases: [database], roles: [role])
                _ = try? admin().execute("DROP TABLE IF EXISTS sentinel_\(suffix)")
            }
            try admin().execute("CREATE TABLE sentinel_\(suffix) (id int)")
            try write(
                """
                services:
                  db:
                    image: postgres:15
                    x-devenv:
                      postgres:
                        roles: [{ name: '\(role.replacingOccurrences(of: "'", with: "''"))' }]
                        databases: [{ name: '\(database)', owner: '\(role.replacingOccurrences(of: "'", with: "''"))' }]
                """)
            let result = try devenv(["provision", "--target", url])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try admin().execute("SELECT count(*) FROM pg_roles WHERE rolname = $1", [role]).scalar == "1")
            #expect(
                try admin().execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", [database])
                    .scalar
                    == role)
            #expect(try admin().execute("SELECT count(*) FROM sentinel_\(suffix)").scalar == "0")
            #expect(try devenv(["provision", "--target", url]).stdout.contains("no statements issued"))
        }

        @Test func unusableIdentifiersAreRefusedWithTheirPlace() throws {
            try write(
                """
                services:
                  db:
                    image: postgres:15
                    x-devenv:
                      postgres:
                        roles: [{ name: "\(String(repeating: "r", count: 64))" }]
                """)
            let result = try devenv(["provision", "--target", url])
            #expect(result.status == 2)
            #expect(
                result.stderr.contains(
                    "compose.yaml:6:25: error: services.db.x-devenv.postgres.roles[].name must be 1 to 63 bytes"))
        }

        @Test func aServerHoldingUndeclaredDataIsRefusedUnlessForced() throws {
            let foreign = "production_\(suffix)"
            defer {
                cleanUp(
                    databases: [foreign, "tracker_\(suffix)", "etl_\(suffix)"],
                    roles: ["dials_\(suffix)", "reader_\(suffix)"])
            }
            try admin().execute("CREATE DATABASE \(foreign)")
            try PostgresConnection(url: with(url, user: "postgres", password: "devenv-test-admin", database: foreign))
                .execute("CREATE TABLE users (id int)")
            try write(stack)
            let refused = try devenv(["provision", "--target", url])
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("databases with data that the stack file does not declare (\(foreign))"))
            #expect(refused.stderr.contains("--force"))
            #expect(
                try admin().execute("SELECT count(*) FROM pg_roles WHERE rolname = $1", ["dials_\(suffix)"]).scalar
                    == "0")
            let forced = try devenv(["provision", "--target", url, "--force"])
            #expect(forced.status == 0, "\(forced.stderr)")
        }
    }
}
