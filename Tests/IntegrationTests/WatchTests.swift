import Foundation
import TestSupport
import Testing

/// `devenv watch` on every engine (issue #18): `sync` puts a saved file into the running
/// container and deletes a deleted one, `ignore` keeps files out, `sync+restart` restarts the
/// container after the copy, `rebuild` rebuilds the image and recreates it; one line per action;
/// Ctrl-C ends the watch with exit 0 and the services running.
@Suite(.serialized) struct WatchTests {
    static let files = [
        "compose.yaml": """
        services:
          app:
            build: ./image
            command: ["sh", "-c", "trap exit TERM; sleep infinity & wait"]
            develop:
              watch:
                - {action: sync, path: ./src, target: /app/src, ignore: ["*.tmp"]}
                - {action: sync+restart, path: ./conf, target: /etc/app}
                - {action: rebuild, path: ./image}
        """,
        "image/Dockerfile": "FROM debian:bookworm-slim\nCOPY version /version\n",
        "image/version": "v1\n",
        "src/.keep": "",
        "conf/.keep": "",
    ]

    @Test(arguments: TestEngine.all)
    func syncRestartAndRebuildFollowTheFiles(engine: TestEngine) async throws {
        try await DevenvProject(files: Self.files, engine: engine).run { project in
            let watch = try project.background(["watch"])
            let said = watch.stderr

            /// Waits (up to 120 s) until `check` holds.
            func eventually(_ what: String, _ check: () async throws -> Bool) async throws {
                let deadline = ContinuousClock.now + .seconds(120)
                while ContinuousClock.now < deadline {
                    if try await check() { return }
                    try await Task.sleep(for: .milliseconds(100))
                }
                Issue.record("\(engine.name): \(what); devenv said: \(said.get().suffix(1500))")
            }
            func inside(_ script: String) async throws -> String {
                let result = try await project.devenv(["exec", "app", "--", "sh", "-c", script])
                return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            func write(_ path: String, _ text: String) throws {
                try text.write(toFile: project.directory + "/" + path, atomically: false, encoding: .utf8)
            }
            try await eventually("watch never started") { said.get().contains("watching") }

            try write("src/a.py", "print('a')\n")
            try write("src/skip.tmp", "no\n")
            try await eventually("a.py was not synced") { try await inside("cat /app/src/a.py 2>&1") == "print('a')" }
            #expect(said.get().contains("app synced: a.py → /app/src/a.py"), "\(engine.name)")
            try FileManager.default.removeItem(atPath: project.directory + "/src/a.py")
            try await eventually("a.py was not deleted") { try await inside("ls /app/src") == "" }
            #expect(try await inside("ls /app/src/skip.tmp 2>&1").contains("No such file"), "\(engine.name)")

            let before = try #require(try await project.containers()["app"])
            let startedBefore = try await project.fixture.client.inspectContainer(before).State.StartedAt
            try write("conf/app.ini", "debug = true\n")
            try await eventually("app.ini was not synced and the container restarted") {
                let started = try await project.fixture.client.inspectContainer(before).State.StartedAt
                let synced = try await inside("cat /etc/app/app.ini")
                return started != startedBefore && synced == "debug = true"
            }

            try write("image/version", "v2\n")
            try await eventually("the image was not rebuilt") { try await inside("cat /version") == "v2" }
            #expect(said.get().contains("app rebuilding: version"), "\(engine.name)")

            let status = try await watch.interrupt()
            #expect(status == 0, "\(engine.name): watch did not end with 0 on Ctrl-C: \(String(describing: status))")
            #expect(try await project.statusRows().first?["state"] as? String == "running", "\(engine.name)")
        }
    }
}
