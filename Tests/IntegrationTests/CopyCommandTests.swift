import Foundation
import TestSupport
import Testing

/// `devenv cp` on every engine (issue #18): a directory and a file up to a service's container
/// and back down, into an existing directory or under a new name, from a stopped container too,
/// and a clear error for what is not there.
@Suite(.serialized) struct CopyCommandTests {
    static let compose = """
        services:
          app:
            image: debian:bookworm-slim
            command: ["sh", "-c", "trap exit TERM; sleep infinity & wait"]
        """

    @Test(arguments: TestEngine.all)
    func filesGoUpAndComeBackTheSame(engine: TestEngine) async throws {
        try await DevenvProject(files: ["compose.yaml": Self.compose], engine: engine).run { project in
            #expect(try await project.devenv(["up"]).status == 0, "\(engine.name)")
            let local = project.directory + "/data"
            try FileManager.default.createDirectory(atPath: local + "/sub", withIntermediateDirectories: true)
            try "one\n".write(toFile: local + "/a.txt", atomically: true, encoding: .utf8)
            try "two\n".write(toFile: local + "/sub/b.txt", atomically: true, encoding: .utf8)
            try FileManager.default.createSymbolicLink(atPath: local + "/link", withDestinationPath: "a.txt")
            func cp(_ from: String, _ to: String) async throws {
                let result = try await project.devenv(["cp", from, to])
                #expect(result.status == 0, "\(engine.name) cp \(from) \(to): \(result.stderr)")
            }

            try await cp("data", "app:/srv")
            try await cp("data/a.txt", "app:/srv/renamed.txt")
            let inside = try await project.shell(
                "app", "cat /srv/data/a.txt /srv/data/sub/b.txt /srv/renamed.txt; readlink /srv/data/link", on: engine)
            #expect(inside == "one\ntwo\none\na.txt", "\(engine.name)")

            _ = try await project.shell("app", "echo made-inside > /srv/data/sub/c.txt", on: engine)
            #expect(try await project.devenv(["stop", "app"]).status == 0)
            try await cp("app:/srv/data", "back")
            try await cp("app:/srv/renamed.txt", ".")
            let back = project.directory + "/back"
            #expect(try String(contentsOfFile: back + "/sub/c.txt", encoding: .utf8) == "made-inside\n")
            #expect(try String(contentsOfFile: back + "/a.txt", encoding: .utf8) == "one\n")
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: back + "/link") == "a.txt")
            #expect(FileManager.default.fileExists(atPath: project.directory + "/renamed.txt"))

            let missing = try await project.devenv(["cp", "app:/nowhere", "x"])
            #expect(missing.status == 1 && missing.stderr.contains("app:/nowhere does not exist"), "\(missing.stderr)")
            let noParent = try await project.devenv(["cp", "data", "app:/no/such/dir/x"])
            #expect(noParent.status == 1 && noParent.stderr.contains("is not a directory"), "\(noParent.stderr)")
        }
    }
}
