import Crypto
import Foundation
import Postgres
import StateStore
import TestSupport
import Testing

extension NativeServerTests {
    /// Provisioning, migrating and seeding a DB on Demand instance as a DBA would, against the
    /// native PostgreSQL of `make test` with an admin that is not a superuser (CREATEROLE
    /// CREATEDB, as DBoD gives). Every refusal must leave the server as it was.
    @Suite struct DBoDTests {
        let superURL: String
        let suffix = String(UUID().uuidString.prefix(6)).lowercased()
        let directory: String
        var admin: String { "dba_\(suffix)" }
        let adminPassword = "initial-dba-password"

        init() throws {
            superURL = try nativeServerURL()
            directory = NSTemporaryDirectory() + "devenv-dbod-\(suffix)"
            try FileManager.default.createDirectory(atPath: directory + "/set", withIntermediateDirectories: true)
            try superuser().execute(
                "CREATE ROLE \(admin) LOGIN CREATEROLE CREATEDB PASSWORD '\(adminPassword)'")
        }

        func superuser(_ database: String = "postgres") throws -> PostgresConnection {
            try PostgresConnection(url: url(user: "postgres", password: "devenv-test-admin", database: database))
        }

        /// The native server's URL as `user`, in `database`.
        func url(user: String, password: String?, database: String = "postgres") -> String {
            postgresURL(superURL, user: user, password: password, database: database)
        }

        var adminURL: String { url(user: admin, password: adminPassword) }

        func devenv(_ arguments: [String], _ environment: [String: String?] = [:]) throws -> ProcessResult {
            try runProcess(
                devenvExecutable(), arguments,
                environment: ["XDG_STATE_HOME": directory + "/state", "DOCKER_HOST": "unix:///nonexistent.sock"]
                    .merging(environment) { $1 }, currentDirectory: directory)
        }

        func write(_ stack: String) throws {
            try stack.write(toFile: directory + "/compose.yaml", atomically: true, encoding: .utf8)
        }

        /// Everything of this test on the server, as text: roles (attributes, stored password,
        /// comment), memberships, databases (owner, ACL, limit, comment, settings).
        func catalog() throws -> String {
            let db = try superuser()
            var lines: [String] = []
            let pattern = "%\(suffix)%"
            for row in try db.execute(
                """
                SELECT rolname, rolcanlogin, rolcreatedb, rolcreaterole, rolconnlimit, rolpassword,
                       shobj_description(oid, 'pg_authid')
                FROM pg_authid WHERE rolname LIKE $1 ORDER BY rolname
                """, [pattern]
            ).rows {
                lines.append("role " + row.map { $0 ?? "∅" }.joined(separator: " | "))
            }
            for row in try db.execute(
                """
                SELECT g.rolname, u.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                JOIN pg_roles u ON u.oid = m.member WHERE g.rolname LIKE $1 OR u.rolname LIKE $1 ORDER BY 1, 2
                """, [pattern]
            ).rows {
                lines.append("member " + row.map { $0 ?? "∅" }.joined(separator: " ∈ "))
            }
            for row in try db.execute(
                """
                SELECT datname, pg_get_userbyid(datdba), datacl::text, datconnlimit,
                       shobj_description(oid, 'pg_database'),
                       (SELECT string_agg(coalesce(setrole::regrole::text, '*') || ':' || array_to_string(setconfig, ','), ';')
                        FROM pg_db_role_setting WHERE setdatabase = d.oid)
                FROM pg_database d WHERE datname LIKE $1 OR datname LIKE 'devenv\\_%' ORDER BY datname
                """, [pattern]
            ).rows {
                lines.append("database " + row.map { $0 ?? "∅" }.joined(separator: " | "))
            }
            return lines.joined(separator: "\n")
        }

        /// Lines of the server's log about failed password logins.
        func failedLogins() -> Int {
            let log =
                (ProcessInfo.processInfo.environment["DEVENV_TEST_PG_DIR"] ?? "/tmp/devenv-test-pg") + "/server.log"
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            return text.components(separatedBy: "password authentication failed").count - 1
        }

        func cleanUp(databases: [String] = [], roles: [String] = []) {
            guard let db = try? superuser() else { return }
            // Snapshots of this test's databases, whatever their names.
            let snapshots =
                (try? db.execute(
                    "SELECT datname FROM pg_database WHERE datname LIKE 'devenv\\_%' AND shobj_description(oid, 'pg_database') LIKE $1",
                    ["%\(suffix)%"]
                ).rows.compactMap { $0[0] }) ?? []
            for database in databases + snapshots {
                _ = try? db.execute("DROP DATABASE IF EXISTS \(try db.quoteIdentifier(database)) WITH (FORCE)")
            }
            for role in roles + [admin] {
                _ = try? db.execute("DROP OWNED BY \(try db.quoteIdentifier(role)) CASCADE")
                _ = try? db.execute("DROP ROLE IF EXISTS \(try db.quoteIdentifier(role))")
            }
            try? FileManager.default.removeItem(atPath: directory)
        }

        // MARK: 1 and 10: what exists is left alone, and no password is tried by logging in

        @Test func existingRolesAndDatabasesAreReportedAsDriftAndLeftAlone() throws {
            let (app, legacy) = ("app_\(suffix)", "legacy_\(suffix)")
            defer { cleanUp(databases: [app], roles: [app, legacy]) }
            let db = try superuser()
            try db.execute("CREATE ROLE \(app) LOGIN CREATEDB CONNECTION LIMIT 20 PASSWORD 'production-password'")
            try db.execute("CREATE ROLE \(legacy)")
            try db.execute("CREATE DATABASE \(app) OWNER \(legacy)")
            try superuser(app).executeScript("CREATE TABLE orders (id int); INSERT INTO orders VALUES (1), (2);")
            try write(
                """
                name: dbod-\(suffix)
                services:
                  db:
                    image: postgres:15
                    x-devenv:
                      postgres:
                        roles: [{ name: \(app) }]
                        databases: [{ name: \(app), owner: \(app) }]
                """)
            let before = try catalog()
            let loginsBefore = failedLogins()

            let dry = try devenv(["provision", "--target", adminURL, "--dry-run"])
            #expect(dry.status == 0, "\(dry.stderr)")
            #expect(
                dry.stdout.contains(
                    "-- drift: role \(app) exists with LOGIN CREATEDB CONNECTION LIMIT 20, the file says LOGIN NOCREATEDB CONNECTION LIMIT -1: left alone (--adopt \(app) takes it over)"
                ), "\(dry.stdout)")
            #expect(dry.stdout.contains("-- drift: database \(app) exists, owned by \(legacy), not \(app): left alone"))
            #expect(!dry.stdout.split(separator: "\n").contains { !$0.hasPrefix("--") && $0.contains("ALTER") })

            let json = try devenv(["provision", "--target", adminURL, "--json"])
            #expect(json.status == 0, "\(json.stderr)")
            let report = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            let drift = try #require(report["drift"] as? [[String: Any]])
            #expect(drift.compactMap { $0["kind"] as? String }.sorted() == ["database_owner", "role_attributes"])
            #expect(try catalog() == before, "a role and a database that exist are not changed")
            _ = try PostgresConnection(url: url(user: app, password: "production-password", database: app))

            // A superuser admin can check the password against the stored verifier: the file's
            // password differs, which is drift, found without a login attempt.
            try write(
                """
                name: dbod-\(suffix)
                services:
                  db:
                    image: postgres:15
                    x-devenv:
                      postgres:
                        roles: [{ name: \(app), password: not-the-production-one }]
                        databases: [{ name: \(app), owner: \(app) }]
                """)
            let checked = try devenv(["provision", "--target", superURL, "--json"])
            #expect(checked.status == 0, "\(checked.stderr)")
            #expect(checked.stdout.contains("\"role_password\""))
            #expect(try catalog() == before)
            #expect(failedLogins() == loginsBefore, "no password was tried by logging in")

            // --adopt takes the role over: attributes, password, and devenv's mark.
            let adopted = try devenv(["provision", "--target", adminURL, "--adopt", app])
            #expect(adopted.status == 0, "\(adopted.stderr)")
            #expect(adopted.stdout.contains("db: alter role \(app)"))
            #expect(adopted.stdout.contains("db: set the password of role \(app)"))
            #expect(adopted.stdout.contains("db: mark role \(app) as devenv's"))
            #expect(adopted.stdout.contains("db: drift: database \(app) exists, owned by \(legacy)"))
            let row = try superuser().execute(
                "SELECT rolcreatedb, rolconnlimit, shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = $1",
                [app]
            ).rows.first
            #expect(row == ["f", "-1", "devenv: managed role"])
            _ = try PostgresConnection(url: url(user: app, password: "not-the-production-one", database: app))
            #expect(failedLogins() == loginsBefore)
        }

        // MARK: 2: a refused run changes nothing; the admin password only by rotate-admin

        @Test func aRefusedRunChangesNothingAndTheAdminPasswordOnlyRotatesWhenAsked() throws {
            let (app, foreign) = ("app_\(suffix)", "production_\(suffix)")
            defer { cleanUp(databases: [app, foreign], roles: [app]) }
            try superuser().execute("CREATE DATABASE \(foreign)")
            try superuser(foreign).execute("CREATE TABLE users (id int)")
            try write(
                """
                name: dbod-\(suffix)
                services:
                  db:
                    image: postgres:15
                    x-devenv:
                      postgres:
                        admin: { user: \(admin), change_password: true }
                        roles: [{ name: \(app) }]
                        databases: [{ name: \(app), owner: \(app) }]
                """)
            let before = try catalog()
            let refused = try devenv(["provision", "--target", adminURL])
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("does not declare (\(foreign))"), "\(refused.stderr)")
            #expect(refused.stderr.contains("nothing was changed"))
            #expect(try catalog() == before, "the admin's password and everything else as they were")
            _ = try PostgresConnection(url: adminURL)

            try superuser().execute("DROP DATABASE \(foreign)")
            let provisioned = try devenv(["provision", "--target", adminURL])
            #expect(provisioned.status == 0, "\(provisioned.stderr)")
            #expect(provisioned.stderr.contains("rotate it with 'devenv secrets rotate-admin --target URL'"))
            _ = try PostgresConnection(url: adminURL)

            // The rotation: stored first, handed over once in a 0600 file, then used by provision.
            let file = directory + "/new-admin-password"
            let rotated = try devenv(["secrets", "rotate-admin", "--target", adminURL, "--output", file])
            #expect(rotated.status == 0, "\(rotated.stderr)")
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            let newPassword = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .newlines)
            #expect(newPassword.count >= 24 && !rotated.stdout.contains(newPassword))
            _ = try PostgresConnection(url: url(user: admin, password: newPassword))
            let shown = try devenv(["secrets", "show", "--target", adminURL, "--json"])
            #expect(shown.stdout.contains(newPassword))
            // The URL still carries the old password: the kept one is used.
            let again = try devenv(["provision", "--target", adminURL])
            #expect(again.status == 0, "\(again.stderr)")
            #expect(again.stdout.contains("already matches"))
            #expect(try devenv(["secrets", "rotate-admin", "--target", adminURL, "--output", file]).status == 2)
        }

        // MARK: 3: secrets per server, apart from the local stack's

        @Test func aServersSecretsAreItsOwnAndSurviveDownVolumes() throws {
            let app = "app_\(suffix)"
            defer { cleanUp(databases: [app], roles: [app]) }
            try write(
                """
                name: dbod-\(suffix)
                services:
                  db:
                    image: postgres:15
                    x-devenv:
                      postgres:
                        roles: [{ name: \(app) }]
                        databases: [{ name: \(app), owner: \(app) }]
                """)
            #expect(try devenv(["provision", "--target", adminURL]).status == 0)
            let server = try devenv(["secrets", "show", "--target", adminURL, "--json"])
            let serverSecrets = try #require(
                try JSONSerialization.jsonObject(with: Data(server.stdout.utf8)) as? [String: String])
            let password = try #require(serverSecrets["db.roles.\(app).password"])
            _ = try PostgresConnection(url: url(user: app, password: password, database: app))
            // The local stack's own secrets (made by up) do not include it…
            let local = try devenv(["secrets", "show", "--json"])
            #expect(!local.stdout.contains(password))
            // …and what `down -v` forgets (the project) leaves the server's alone.
            try StateStore(path: directory + "/state/devenv/state.db").deleteProject(named: "dbod-\(suffix)")
            let after = try devenv(["secrets", "show", "--target", adminURL, "--json"])
            #expect(after.stdout.contains(password))
            // Another server (another host, port or database) has a scope of its own.
            let other = try devenv([
                "secrets", "show", "--target", url(user: admin, password: nil, database: "template1"),
            ])
            #expect(other.stderr.contains("has no generated secrets yet"))
        }

        // MARK: 4: a CREATEROLE CREATEDB admin gets a whole instance, and names what it lacks

        @Test func aCreateRoleCreateDBAdminProvisionsAWholeInstance() throws {
            let (app, reader) = ("app_\(suffix)", "reader_\(suffix)")
            defer { cleanUp(databases: [app], roles: [app, reader]) }
            try write(
                """
                name: dbod-\(suffix)
                services:
                  db:
                    image: postgres:15
                    x-devenv:
                      postgres:
                        roles: [{ name: \(app) }, { name: \(reader), login: false }]
                        databases:
                          - name: \(app)
                            owner: \(app)
                            extensions: [pg_trgm]
                            schemas: [audit]
                            grants: [{ role: \(reader), privileges: [connect, select] }]
                """)
            // Without CREATEDB: refused before anything, naming the privilege.
            try superuser().execute("ALTER ROLE \(admin) NOCREATEDB")
            let before = try catalog()
            let refused = try devenv(["provision", "--target", adminURL])
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("the admin \(admin) lacks CREATEDB (to create database \(app))"))
            #expect(refused.stderr.contains("ALTER ROLE \(admin) CREATEDB"))
            #expect(try catalog() == before, "not even the role was created")

            try superuser().execute("ALTER ROLE \(admin) CREATEDB")
            let result = try devenv(["provision", "--target", adminURL])
            #expect(result.status == 0, "\(result.stderr)")
            let db = try superuser(app)
            #expect(
                try db.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", [app]).scalar
                    == app)
            #expect(try db.execute("SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'").scalar == "pg_trgm")
            #expect(
                try db.execute("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'audit'").scalar
                    == app)
            #expect(try db.execute("SELECT has_database_privilege($1, $2, 'CONNECT')", [reader, app]).scalar == "t")
            // The membership borrowed for the run was given back.
            #expect(try superuser().execute("SELECT pg_has_role($1, $2, 'MEMBER')", [admin, app]).scalar == "f")
            #expect(try devenv(["provision", "--target", adminURL]).stdout.contains("already matches"))
        }

        // MARK: sample sets for the seed tests

        /// A database owned by `owner` with table `items`, and a set of `rows` rows for it.
        func prepareSeed(database: String, owner: String, rows: Int = 3, manifestRows: Int? = nil) throws {
            try superuser().execute("CREATE ROLE \(owner) LOGIN PASSWORD 'owner-password'")
            try superuser().execute("CREATE DATABASE \(database) OWNER \(owner)")
            try PostgresConnection(url: url(user: owner, password: "owner-password", database: database)).execute(
                "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)")
            try writeSet(rows: rows, manifestRows: manifestRows)
        }

        func writeSet(
            rows: Int = 3, manifestRows: Int? = nil, file: String = "public.items.copy", database: String? = nil
        )
            throws
        {
            let text = (1...rows).map { "\($0)\titem \($0)\n" }.joined()
            let path = directory + "/set/public.items.copy"
            try? FileManager.default.removeItem(atPath: path)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let digest = SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
            let manifest: [String: Any] = [
                "format": 1, "name": "items-\(suffix)", "database": database ?? "elsewhere_\(suffix)",
                "tables": [
                    [
                        "schema": "public", "name": "items", "file": file, "columns": ["id", "name"],
                        "rows": manifestRows ?? rows, "sha256": digest, "format": "text",
                    ]
                ],
            ]
            try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys]).write(
                to: URL(fileURLWithPath: directory + "/set/manifest.json"))
        }

        func rows(_ database: String) throws -> String? {
            try superuser(database).execute("SELECT count(*) FROM items").scalar
        }

        // MARK: 5, 7, 9 and 11: seeding a server

        @Test func seedHonoursTheTargetsDatabaseLeavesNoCopiesAndNeverDisconnects() throws {
            let (app, owner) = ("app_\(suffix)", "owner_\(suffix)")
            defer { cleanUp(databases: [app], roles: [owner]) }
            try prepareSeed(database: app, owner: owner)
            let target = url(user: admin, password: adminPassword, database: app)
            // An application session stays open throughout.
            let session = try PostgresConnection(url: url(user: owner, password: "owner-password", database: app))
            let before = try catalog()
            let refused = try devenv(["seed", "set", "--target", target])
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("\(app) is in use by \(owner)@"), "\(refused.stderr)")
            #expect(refused.stderr.contains("nothing was written"))
            #expect(try rows(app) == "0")
            #expect(try session.execute("SELECT 1").scalar == "1", "the session was not disconnected")

            // --force seeds alongside it, into the URL's database (the set names another), and
            // leaves no snapshot or spare copy behind.
            let seeded = try devenv(["seed", "set", "--target", target, "--force"])
            #expect(seeded.status == 0, "\(seeded.stderr)")
            #expect(seeded.stdout.contains("seeded items-\(suffix) into \(app): 1 tables, 3 rows"))
            #expect(try rows(app) == "3")
            #expect(try session.execute("SELECT 1").scalar == "1")
            #expect(try catalog() == before, "no devenv_snap_* or devenv_spare_* database appeared")

            // A snapshot asked for, with the session open: the seed's outcome is its committed
            // rows; the snapshot is refused on its own, and reported.
            try superuser(app).execute("TRUNCATE items")
            try superuser(app).execute("DELETE FROM devenv_seed_ledger")
            let asked = try devenv(["seed", "set", "--target", target, "--force", "--snapshot", "first"])
            #expect(asked.status == 0, "\(asked.stderr)")
            #expect(asked.stderr.contains("seeded, but snapshot first was not taken"), "\(asked.stderr)")
            #expect(try rows(app) == "3")
            #expect(try session.execute("SELECT 1").scalar == "1")
            let snapshot = try devenv(["db", "snapshot", "first", "--target", target])
            #expect(snapshot.status == 1)
            #expect(snapshot.stderr.contains("in use by \(owner)@"))
            #expect(try session.execute("SELECT 1").scalar == "1")
            session.close()
        }

        @Test func snapshotsAreTheAdminsListedDroppedAndNotClonableByOthers() throws {
            let (app, owner, other) = ("app_\(suffix)", "owner_\(suffix)", "other_\(suffix)")
            defer { cleanUp(databases: [app, "stolen_\(suffix)"], roles: [owner, other]) }
            try prepareSeed(database: app, owner: owner)
            let target = url(user: admin, password: adminPassword, database: app)
            let seeded = try devenv(["seed", "set", "--target", target, "--snapshot", "fresh"])
            #expect(seeded.status == 0, "\(seeded.stderr)")
            #expect(seeded.stdout.contains("snapshot fresh of \(app) taken"))
            let list = try devenv(["db", "snapshots", "--target", target, "--json"])
            let snapshots = try #require(
                try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
            let mine = try #require(snapshots.first { $0["database"] as? String == app })
            #expect(mine["name"] as? String == "fresh")
            let template = try #require(mine["template"] as? String)
            // Another role with CREATEDB cannot copy the data out of it.
            try superuser().execute("CREATE ROLE \(other) LOGIN CREATEDB PASSWORD 'other-password'")
            let thief = try PostgresConnection(url: url(user: other, password: "other-password"))
            #expect(throws: PostgresError.self) {
                try thief.execute("CREATE DATABASE stolen_\(suffix) TEMPLATE \(template)")
            }
            // Reset back to it, then drop it.
            try superuser(app).execute("DELETE FROM items")
            let restored = try devenv(["db", "restore", "fresh", "--target", target])
            #expect(restored.status == 0, "\(restored.stderr)")
            #expect(try rows(app) == "3")
            let dropped = try devenv(["db", "snapshot", "drop", "fresh", "--target", target])
            #expect(dropped.status == 0, "\(dropped.stderr)")
            #expect(
                try superuser().execute("SELECT count(*) FROM pg_database WHERE datname = $1", [template]).scalar == "0"
            )
            let again = try devenv(["db", "snapshot", "drop", "fresh", "--target", target])
            #expect(again.status == 1)
            #expect(again.stderr.contains("has no snapshot 'fresh'"))
        }

        // MARK: 6: restore keeps what a clone does not copy

        @Test func restoreKeepsOwnerGrantsLimitCommentAndSettings() throws {
            let (app, owner, reader) = ("app_\(suffix)", "owner_\(suffix)", "reader_\(suffix)")
            defer { cleanUp(databases: [app], roles: [owner, reader]) }
            try prepareSeed(database: app, owner: owner)
            let db = try superuser()
            try db.execute("CREATE ROLE \(reader) LOGIN")
            try db.execute("REVOKE CONNECT ON DATABASE \(app) FROM PUBLIC")
            try db.execute("GRANT CONNECT ON DATABASE \(app) TO \(reader), \(admin)")
            try db.execute("ALTER DATABASE \(app) SET work_mem = '8MB'")
            try db.execute("ALTER ROLE \(reader) IN DATABASE \(app) SET search_path = audit, public")
            try db.execute("ALTER DATABASE \(app) WITH CONNECTION LIMIT 7")
            try db.execute("COMMENT ON DATABASE \(app) IS 'production copy \(suffix)'")
            let target = url(user: admin, password: adminPassword, database: app)
            #expect(try devenv(["seed", "set", "--target", target, "--snapshot", "s"]).status == 0)
            let before = try catalog().split(separator: "\n").filter { $0.hasPrefix("database \(app) ") }
            try superuser(app).execute("DELETE FROM items")
            let restored = try devenv(["db", "restore", "s", "--target", target])
            #expect(restored.status == 0, "\(restored.stderr)")
            #expect(try rows(app) == "3")
            let after = try catalog().split(separator: "\n").filter { $0.hasPrefix("database \(app) ") }
            #expect(after == before, "owner, ACL, connection limit, comment and settings kept")
            #expect(try superuser().execute("SELECT pg_has_role($1, $2, 'MEMBER')", [admin, owner]).scalar == "f")
        }

        // MARK: 8 and 9: hostile sets, counts, missing tables

        @Test func setFilesAreCheckedBeforeAnythingReachesTheServer() throws {
            let (app, owner) = ("app_\(suffix)", "owner_\(suffix)")
            defer { cleanUp(databases: [app], roles: [owner]) }
            try prepareSeed(database: app, owner: owner)
            let target = url(user: admin, password: adminPassword, database: app)
            let logBefore = (try? String(contentsOfFile: "/tmp/devenv-test-pg/server.log", encoding: .utf8)) ?? ""

            // A link to a secret elsewhere, even with a matching digest: refused, never read.
            let secret = directory + "/outside-secret"
            let marker = "SECRET-MARKER-\(suffix)"
            try "1\t\(marker)\n".write(toFile: secret, atomically: true, encoding: .utf8)
            try writeSet(rows: 1)
            try FileManager.default.removeItem(atPath: directory + "/set/public.items.copy")
            try FileManager.default.createSymbolicLink(
                atPath: directory + "/set/public.items.copy", withDestinationPath: secret)
            let linked = try devenv(["seed", "set", "--target", target])
            #expect(linked.status == 1)
            #expect(linked.stderr.contains("a symbolic link"), "\(linked.stderr)")
            #expect(try rows(app) == "0")
            let logAfter = (try? String(contentsOfFile: "/tmp/devenv-test-pg/server.log", encoding: .utf8)) ?? ""
            #expect(!logAfter.dropFirst(logBefore.count).contains(marker))

            // A path out of the set.
            try writeSet(rows: 1, file: "../outside-secret")
            let outside = try devenv(["seed", "set", "--target", target])
            #expect(outside.status == 2 || outside.status == 1)
            #expect(outside.stderr.contains("outside-secret"), "\(outside.stderr)")
            #expect(try rows(app) == "0")

            // A manifest whose row count is wrong: nothing committed.
            try writeSet(rows: 3, manifestRows: 4)
            let counted = try devenv(["seed", "set", "--target", target])
            #expect(counted.status == 1)
            #expect(
                counted.stderr.contains("holds 3 rows, its manifest says 4; nothing was written"), "\(counted.stderr)")
            #expect(try rows(app) == "0")

            // Before migrations: the table is missing, said plainly.
            try superuser(app).execute("DROP TABLE items")
            try writeSet(rows: 3)
            let early = try devenv(["seed", "set", "--target", target])
            #expect(early.status == 1)
            #expect(early.stderr.contains("table public.items of sample set items-\(suffix) does not exist in \(app)"))
            #expect(early.stderr.contains("run the app's migrations first"))
            #expect(!early.stderr.contains("relation"))
        }
    }
}
