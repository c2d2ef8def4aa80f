import Crypto
import Foundation
import Postgres
import TestSupport
import Testing

extension NativeServerTests {
    /// `devenv seed` and `devenv db` against the native PostgreSQL of `make test`.
    @Suite struct SeedTests {
        let url: String
        let database: String
        let directory: String

        init() throws {
            url = try nativeServerURL()
            database = "seed_" + UUID().uuidString.prefix(8).lowercased()
            directory = NSTemporaryDirectory() + "devenv-seed-\(database)"
            try FileManager.default.createDirectory(atPath: directory + "/set", withIntermediateDirectories: true)
        }

        var databaseURL: String {
            var components = URLComponents(string: url)!
            components.path = "/" + database
            return components.string!
        }

        /// A Django-shaped schema: a self-referencing table and a child table whose FK (deferrable,
        /// as Django makes them) points at a table loaded after it.
        func createDatabase() throws {
            try PostgresConnection(url: url).execute("CREATE DATABASE \(database)")
            try PostgresConnection(url: databaseURL).executeScript(
                """
                CREATE TABLE runs (id serial PRIMARY KEY, name text NOT NULL, previous_id int REFERENCES runs(id) DEFERRABLE INITIALLY DEFERRED);
                CREATE TABLE comments (id bigserial PRIMARY KEY, run_id int NOT NULL REFERENCES runs(id) DEFERRABLE INITIALLY DEFERRED, body text);
                """)
        }

        func dropDatabase() {
            _ = try? PostgresConnection(url: url).execute("DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
            for name in ["seeded", "before"] {
                let digest = SHA256.hash(data: Data("\(database)\u{0}\(name)".utf8)).prefix(8).map {
                    String(format: "%02x", $0)
                }.joined()
                // Two statements, two calls: DROP DATABASE cannot run in a multi-statement string.
                let admin = try? PostgresConnection(url: url)
                _ = try? admin?.execute("ALTER DATABASE devenv_snap_\(digest) WITH IS_TEMPLATE false")
                _ = try? admin?.execute("DROP DATABASE IF EXISTS devenv_snap_\(digest) WITH (FORCE)")
                _ = try? PostgresConnection(url: url).execute(
                    "DROP DATABASE IF EXISTS devenv_spare_\(digest) WITH (FORCE)")
            }
            try? FileManager.default.removeItem(atPath: directory)
        }

        /// Writes a sample set: `comments` first (its rows point at runs loaded later).
        func writeSet(runs: Int = 300, name: String = "demo", corrupt: Bool = false) throws {
            var runsText = ""
            for id in 1...runs { runsText += "\(id)\trun \(id)\t\(id == 1 ? "\\N" : String(id - 1))\n" }
            var commentsText = ""
            for id in 1...(runs * 3) { commentsText += "\(id)\t\((id % runs) + 1)\tcomment\\twith tab \(id)\n" }
            var tables: [[String: Any]] = []
            for (table, text, columns) in [
                ("comments", commentsText, ["id", "run_id", "body"]),
                ("runs", runsText, ["id", "name", "previous_id"]),
            ] {
                let file = "public.\(table).copy"
                try text.write(toFile: directory + "/set/" + file, atomically: true, encoding: .utf8)
                let digest = SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
                tables.append([
                    "schema": "public", "name": table, "file": file, "columns": columns,
                    "rows": text.split(separator: "\n").count,
                    "sha256": corrupt && table == "runs" ? String(repeating: "0", count: 64) : digest,
                    "format": "text",
                ])
            }
            let manifest: [String: Any] = ["format": 1, "name": name, "database": database, "tables": tables]
            try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys]).write(
                to: URL(fileURLWithPath: directory + "/set/manifest.json"))
        }

        /// `spare`: let devenv prepare spare copies in the background (off elsewhere, so nothing
        /// outlives a test).
        func devenv(_ arguments: [String], spare: Bool = false) throws -> ProcessResult {
            try runProcess(
                devenvExecutable(), arguments + ["--target", url],
                environment: [
                    "XDG_STATE_HOME": directory + "/state", "DOCKER_HOST": "unix:///nonexistent.sock",
                    "DEVENV_SPARE": spare ? "1" : "0",
                ],
                currentDirectory: directory)
        }

        /// Waits (up to 20 s) until the background `prepare-spare` made the seeded snapshot's spare.
        func waitForSpare() throws -> Bool {
            let digest = SHA256.hash(data: Data("\(database)\u{0}seeded".utf8)).prefix(8).map {
                String(format: "%02x", $0)
            }.joined()
            let admin = try PostgresConnection(url: url)
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline {
                if try admin.execute("SELECT 1 FROM pg_database WHERE datname = $1", ["devenv_spare_\(digest)"]).rows
                    .count == 1
                {
                    return true
                }
                Thread.sleep(forTimeInterval: 0.1)
            }
            return false
        }

        func count(_ table: String) throws -> Int {
            Int(try PostgresConnection(url: databaseURL).execute("SELECT count(*) FROM \(table)").scalar ?? "-1") ?? -1
        }

        @Test func seedsOnceRefusesOccupiedDataAndForcesAtomically() throws {
            defer { dropDatabase() }
            try createDatabase()
            try writeSet()
            let first = try devenv(["seed", directory + "/set"])
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stdout.contains("seeded demo into \(database): 2 tables, 1200 rows"))
            #expect(try count("runs") == 300)
            #expect(try count("comments") == 900)
            // Every foreign key holds, and sequences continue after the loaded ids.
            let db = try PostgresConnection(url: databaseURL)
            #expect(
                try db.execute("SELECT count(*) FROM comments c LEFT JOIN runs r ON r.id = c.run_id WHERE r.id IS NULL")
                    .scalar == "0")
            #expect(try db.execute("INSERT INTO runs (name) VALUES ('next') RETURNING id").scalar == "301")
            #expect(try db.execute("INSERT INTO comments (run_id) VALUES (1) RETURNING id").scalar == "901")
            // On a server, seed refuses while others are connected: this session goes first.
            db.close()

            // The same set again: nothing to do (the ledger says so), even with rows added since.
            let again = try devenv(["seed", directory + "/set"])
            #expect(again.status == 0)
            #expect(again.stdout.contains("already holds sample set demo; nothing to do"))
            #expect(try count("runs") == 301)

            // Another version of the same set (it changed since): refused, nothing written.
            try writeSet(runs: 7)
            let newer = try devenv(["seed", directory + "/set"])
            #expect(newer.status == 1)
            #expect(newer.stderr.contains("holds another version of sample set demo; nothing was written"))
            #expect(try count("runs") == 301)

            // Another set: refused, nothing written.
            try writeSet(runs: 5, name: "other")
            let refused = try devenv(["seed", directory + "/set"])
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("already holds sample set demo"))
            #expect(refused.stderr.contains("nothing was written"))
            #expect(try count("runs") == 301)

            // --force replaces it all at once.
            let forced = try devenv(["seed", directory + "/set", "--force"])
            #expect(forced.status == 0, "\(forced.stderr)")
            #expect(try count("runs") == 5)
            #expect(try count("comments") == 15)
        }

        @Test func aDatabaseWithRowsIsRefusedAndACorruptFileWritesNothing() throws {
            defer { dropDatabase() }
            try createDatabase()
            try PostgresConnection(url: databaseURL).execute("INSERT INTO runs (name) VALUES ('production row')")
            try writeSet()
            let refused = try devenv(["seed", directory + "/set"])
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("already holds rows in public.runs; nothing was written; pass --force"))
            #expect(try count("runs") == 1)
            #expect(try count("comments") == 0)

            try writeSet(corrupt: true)
            let corrupt = try devenv(["seed", directory + "/set", "--force"])
            #expect(corrupt.status == 1)
            #expect(corrupt.stderr.contains("does not match its manifest"))
            #expect(try count("runs") == 1, "the truncate and the loads were rolled back")
            #expect(try count("comments") == 0)
        }

        @Test func snapshotsRestoreAndResetBringDataBack() throws {
            defer { dropDatabase() }
            try createDatabase()
            try writeSet()
            #expect(try devenv(["seed", directory + "/set", "--snapshot", "seeded"], spare: true).status == 0)
            // Twice: each reset renames the spare the previous command prepared in the background.
            for _ in 0..<2 {
                #expect(try waitForSpare())
                try PostgresConnection(url: databaseURL).execute("DELETE FROM comments")
                let reset = try devenv(["db", "reset", database], spare: true)
                #expect(reset.status == 0, "\(reset.stderr)")
                #expect(try count("comments") == 900)
                #expect(
                    try PostgresConnection(url: databaseURL).execute(
                        "INSERT INTO runs (name) VALUES ('n') RETURNING id"
                    ).scalar == "301")
            }
            #expect(try waitForSpare())
            // Without a spare, a reset clones the snapshot.
            let digest = SHA256.hash(data: Data("\(database)\u{0}seeded".utf8)).prefix(8).map {
                String(format: "%02x", $0)
            }.joined()
            try PostgresConnection(url: url).execute("DROP DATABASE devenv_spare_\(digest)")
            try PostgresConnection(url: databaseURL).execute("DELETE FROM comments")
            #expect(try devenv(["db", "reset", database]).status == 0)
            #expect(try count("comments") == 900)

            #expect(try devenv(["db", "snapshot", "before", "--database", database]).status == 0)
            try PostgresConnection(url: databaseURL).execute("DELETE FROM comments WHERE id > 10")
            // A client holds the database: restore refuses unless --force.
            let holder = try PostgresConnection(url: databaseURL)
            let refused = try devenv(["db", "restore", "before", "--database", database])
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("\(database) is in use by"))
            #expect(try count("comments") == 10)
            let restored = try devenv(["db", "restore", "before", "--database", database, "--force"])
            #expect(restored.status == 0, "\(restored.stderr)")
            #expect(try count("comments") == 900)
            #expect(throws: PostgresError.self) { try holder.execute("SELECT 1") }

            let list = try devenv(["db", "snapshots", "--json"])
            let snapshots = try #require(
                try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
            let mine = snapshots.filter { $0["database"] as? String == database }.compactMap { $0["name"] as? String }
            #expect(mine == ["before", "seeded"])
            let missing = try devenv(["db", "restore", "nosuch", "--database", database])
            #expect(missing.status == 1)
            #expect(missing.stderr.contains("has no snapshot 'nosuch' (it has: before, seeded)"))
        }
    }
}
