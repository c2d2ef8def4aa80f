import Foundation
import Testing

@testable import DevEnvCore
@testable import DevEnvOrchestration
@testable import DevEnvProvisioning

/// The warm database cache's entries on disk (issue #19): whole or absent, bounded, keyed on
/// the migration files of bind mounts. The restore itself is in WarmUpTests (every engine).
@Suite struct WarmDatabaseCacheTests {
    let root = NSTemporaryDirectory() + "devenv-warm-\(UUID().uuidString)"
    var cache: WarmDatabaseCache { WarmDatabaseCache(statePath: root + "/devenv/state.db") }

    func record(_ key: String) -> WarmDatabaseCache.Record {
        WarmDatabaseCache.Record(
            format: WarmDatabaseCache.format, key: key, databases: ["app"], seeded: ["app"], superuser: nil,
            project: "p", service: "web", created: Date())
    }

    @Test func anEntryIsWholeOrAbsentAndTheLeastRecentlyUsedGoFirst() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(cache.entry("a") == nil)
        try cache.store(record("a"), tar: Data("tar-a".utf8), limit: 2)
        try cache.store(record("b"), tar: Data("tar-b".utf8), limit: 2)
        let mode = try FileManager.default.attributesOfItem(atPath: cache.directory)[.posixPermissions] as? Int
        #expect(mode == 0o700)
        // Using "a" makes "b" the least recently used: the third entry evicts "b".
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSinceNow: -60)], ofItemAtPath: cache.recordPath("b"))
        #expect(cache.entry("a")?.tar == Data("tar-a".utf8))
        try cache.store(record("c"), tar: Data("tar-c".utf8), limit: 2)
        #expect(cache.entry("b") == nil && cache.entry("a") != nil && cache.entry("c") != nil)

        // A tar without its record (a store killed between its writes) is no entry, and goes.
        try FileManager.default.removeItem(atPath: cache.recordPath("c"))
        #expect(cache.entry("c") == nil)
        #expect(cache.evict(keeping: 8) == ["c"])
        #expect(!FileManager.default.fileExists(atPath: cache.tarPath("c")))
        // A record of another format is not restored from, and goes at the next eviction.
        var old = record("d")
        old.format = "0"
        try cache.store(old, tar: Data(), limit: 8)
        #expect(cache.entry("d") == nil)
        #expect(!FileManager.default.fileExists(atPath: cache.tarPath("d")))
    }

    @Test func theMigrationDigestFollowsMigrationFilesOnly() throws {
        let source = root + "/src"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: source + "/app/migrations", withIntermediateDirectories: true)
        try "x = 1\n".write(toFile: source + "/app/migrations/0001_initial.py", atomically: true, encoding: .utf8)
        try "view\n".write(toFile: source + "/app/views.py", atomically: true, encoding: .utf8)
        let mounts = [(source: source, target: "/app")]
        let first = WarmDatabaseCache.migrationDigest(of: mounts)
        try "view 2\n".write(toFile: source + "/app/views.py", atomically: true, encoding: .utf8)
        #expect(WarmDatabaseCache.migrationDigest(of: mounts) == first, "a view is not a migration")
        try "x = 2\n".write(toFile: source + "/app/migrations/0001_initial.py", atomically: true, encoding: .utf8)
        #expect(WarmDatabaseCache.migrationDigest(of: mounts) != first)
        #expect(WarmDatabaseCache.migrationDigest(of: mounts, limit: 2) == nil, "too many files to hash: no entry")
    }

    /// An app that migrates is never taken for the database server, whatever its image.
    @Test func aDjangoAppOnAPostgresImageIsNotThePostgresService() throws {
        let directory = try ProjectDirectory([
            "compose.yaml": """
            services:
              app:
                image: postgres:15
                x-devenv: { django: { migrate: true } }
              db:
                image: postgres:15
            """
        ])
        let stack = try directory.load(project: "p").stack
        #expect(stack.service("app")?.kind == .other)
        #expect(stack.service("db")?.kind == .postgres)
    }

    /// A warm `up` gives a restored superuser another project's password with one `UPDATE`,
    /// hashed as Django's first hasher would (values from Python's hashlib, an implementation
    /// of its own); where the row is comes from the real migrate's `manage.py shell`.
    @Test func aSuperuserPasswordIsHashedAsDjangoHashesIt() throws {
        let output = """
            Some app printing at import
            devenv-superuser-row {"database": "dials", "table": "auth_user", "usernameColumn": "username", "passwordColumn": "password", "algorithm": "pbkdf2_sha256", "iterations": 260000, "username": "admin"}
            """
        let row = try #require(SuperuserRow(output: output))
        #expect(row.database == "dials" && row.table == "auth_user" && row.username == "admin")
        #expect(
            row.hash("p\u{E4}ssword", salt: "seasaltseasaltseasalt1")
                == "pbkdf2_sha256$260000$seasaltseasaltseasalt1$oEixtWnz+lYZFjxh5w223H1zqfpJQfzeYK9Zzm/CI3w=")
        var sha1 = row
        sha1.algorithm = "pbkdf2_sha1"
        sha1.iterations = 1000
        #expect(sha1.hash("letmein", salt: "seasalt") == "pbkdf2_sha1$1000$seasalt$FR1Hz/2XTwvhcvkmbwDDrzMsEnQ=")
        // A hasher devenv does not compute is left to Django; so is a salt Django could not split.
        var argon = row
        argon.algorithm = "argon2"
        #expect(argon.hash("letmein") == nil)
        #expect(row.hash("letmein", salt: "a$b") == nil)
        let salt = SuperuserRow.salt()
        #expect(salt.count == 22 && salt.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
        #expect(salt != SuperuserRow.salt())
        #expect(SuperuserRow(output: "no marker here") == nil)
    }
}
