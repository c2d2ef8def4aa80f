import Foundation
import TestSupport
import Testing

@testable import StateStore

func temporaryStatePath() -> String {
    NSTemporaryDirectory() + "devenv-state-\(UUID().uuidString)/devenv/state.db"
}

@Suite struct StateStoreTests {
    @Test func createsThePrivateFileAndDirectory() throws {
        let path = temporaryStatePath()
        let store = try StateStore(path: path)
        #expect(store.path == path)
        let file = try FileManager.default.attributesOfItem(atPath: path)
        let directory = try FileManager.default.attributesOfItem(atPath: (path as NSString).deletingLastPathComponent)
        #expect((file[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect((directory[.posixPermissions] as? NSNumber)?.intValue == 0o700)
        #expect(try store.recordedSchemaVersion() == StateStore.schemaVersion)
    }

    @Test func defaultPathFollowsXDG() {
        #expect(
            StateStore.defaultPath(environment: ["XDG_STATE_HOME": "/x/state", "HOME": "/home/u"])
                == "/x/state/devenv/state.db")
        #expect(StateStore.defaultPath(environment: ["HOME": "/home/u"]) == "/home/u/.local/state/devenv/state.db")
        // A relative XDG_STATE_HOME is invalid per the spec and ignored.
        #expect(
            StateStore.defaultPath(environment: ["XDG_STATE_HOME": "rel", "HOME": "/home/u"])
                == "/home/u/.local/state/devenv/state.db")
    }

    @Test func secretsAreGeneratedOnceAndSurviveReopening() throws {
        let path = temporaryStatePath()
        let first = try StateStore(path: path).secret(project: "p", key: "db.roles.app.password") {
            StateStore.generateSecret()
        }
        let again = try StateStore(path: path).secret(project: "p", key: "db.roles.app.password") { "different" }
        #expect(first == again)
        #expect(first.count >= 24)
        #expect(first.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
    }

    @Test func givenSecretsReplaceAndDeletingAProjectForgetsThem() throws {
        let store = try StateStore(path: temporaryStatePath())
        try store.setSecret(project: "p", key: "redis.password", value: "one")
        try store.setSecret(project: "p", key: "redis.password", value: "two")
        #expect(try store.secrets(project: "p") == ["redis.password": "two"])
        try store.deleteProject(named: "p")
        #expect(try store.secrets(project: "p").isEmpty)
    }

    @Test func generatedSecretsDiffer() {
        let secrets = Set((0..<100).map { _ in StateStore.generateSecret() })
        #expect(secrets.count == 100)
    }

    @Test func migratingAVersionOneStoreKeepsItsSecrets() throws {
        let path = temporaryStatePath()
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        // A store as the first release wrote it.
        do {
            let old = try SQLiteDatabase(path: path)
            try old.execute(StateStore.migrations[0])
            try old.execute("PRAGMA user_version = 1")
            try old.query(
                "INSERT INTO projects (name, working_dir, files, created_at, updated_at) VALUES ('kept', '/w', '[\"compose.yaml\"]', 1, 2)"
            )
            try old.query("INSERT INTO secrets VALUES ('kept', 'db.password', 's3cret', 1)")
        }
        let store = try StateStore(path: path)
        #expect(try store.recordedSchemaVersion() == StateStore.schemaVersion)
        #expect(try store.secrets(project: "kept") == ["db.password": "s3cret"])
        // The projects table, written and never read, is gone (migration 5).
        #expect(throws: StateStoreError.self) { try SQLiteDatabase(path: path).query("SELECT * FROM projects") }
    }

    @Test func aNewerSchemaIsRefused() throws {
        let path = temporaryStatePath()
        _ = try StateStore(path: path)
        try SQLiteDatabase(path: path).execute("PRAGMA user_version = 99")
        let error = #expect(throws: StateStoreError.self) { _ = try StateStore(path: path) }
        #expect(error?.code == .migration)
        #expect(error?.message.contains("upgrade devenv") == true)
    }

    @Test func anUnwritableLocationIsAClearError() {
        let error = #expect(throws: StateStoreError.self) { _ = try StateStore(path: "/proc/devenv/state.db") }
        #expect(error?.message.contains("/proc/devenv") == true)
    }

    @Test func twoProcessesWritingAtOnce() throws {
        let path = temporaryStatePath()
        _ = try StateStore(path: path)
        let helper = productsDirectory().appendingPathComponent("statestore-writer")
        #expect(FileManager.default.isExecutableFile(atPath: helper.path), "build the package first: \(helper.path)")
        let count = 200
        let processes = try ["a", "b"].map { writer in
            let process = Process()
            process.executableURL = helper
            process.arguments = [path, writer, String(count)]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            return (process, output)
        }
        var shared: [String] = []
        for (process, output) in processes {
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            shared.append(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        // Both saw the same shared secret: whichever process created it first.
        #expect(Set(shared).count == 1)
        #expect(["from-a", "from-b"].contains(shared[0]))
        let store = try StateStore(path: path)
        #expect(try store.secrets(project: "race").count == 2 * count + 1)
        for writer in ["a", "b"] {
            #expect(try store.secrets(project: "race-\(writer)") == ["index": "\(count - 1)"])
        }
    }
}
