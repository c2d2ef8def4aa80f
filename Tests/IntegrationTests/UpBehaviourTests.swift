import DockerEngine
import Foundation
import TestSupport
import Testing

/// What `up` promises beyond converging: flags honoured, readiness that means something, and
/// failures that blame the right thing (issue #16).
@Suite struct UpBehaviourTests {
    /// `--no-seed` leaves the tables empty, and the next `up` without it seeds them.
    @Test func noSeedLeavesTheTablesEmptyUntilAnUpWithoutIt() async throws {
        try await DevenvProject(files: HardeningTests.stackFiles(rows: 1_000)).run { project in
            let count = [
                "exec", "db", "--", "psql", "-U", "postgres", "-d", "app", "-tAc", "SELECT count(*) FROM items",
            ]
            let skipped = try await project.devenv(["up", "db", "--no-seed"])
            #expect(skipped.status == 0, "\(skipped.stderr)")
            #expect(!skipped.stderr.contains("seeded"), "\(skipped.stderr)")
            #expect(try await project.devenv(count).stdout == "0\n")

            let seeded = try await project.devenv(["up", "db"])
            #expect(seeded.status == 0, "\(seeded.stderr)")
            #expect(try await project.devenv(count).stdout == "1000\n")
        }
    }

    /// A service with nothing to check is up only once it has stayed running through its
    /// settle time: one that exits at once, or keeps being restarted, fails `up` with its exit
    /// code and last lines, and what depends on it is not started. On every engine.
    @Test(arguments: TestEngine.all)
    func aServiceThatExitsAtOnceFailsUpAndItsDependentsDoNotStart(engine: TestEngine) async throws {
        let stack = """
            services:
              crash:
                image: debian:bookworm-slim
                command: ["sh", "-c", "echo 'fatal: no settings' >&2; exit 3"]
              looping:
                image: debian:bookworm-slim
                command: ["sh", "-c", "echo 'looping: cannot bind' >&2; exit 4"]
                restart: always
              dependent:
                image: debian:bookworm-slim
                command: ["sleep", "infinity"]
                init: true
                depends_on: [crash]
              oneshot:
                image: debian:bookworm-slim
                command: ["true"]
              fine:
                image: debian:bookworm-slim
                command: ["sleep", "infinity"]
                init: true
                x-devenv: { settle: 300ms }
            """
        try await DevenvProject(files: ["compose.yaml": stack], engine: engine).run { project in
            let result = try await project.devenv(["up"])
            #expect(result.status == 1, "\(engine.name): \(result.stderr)")
            #expect(result.stderr.contains("service 'crash' exited with code 3"), "\(engine.name): \(result.stderr)")
            #expect(result.stderr.contains("crash | fatal: no settings"), "\(result.stderr)")
            // Seen between exit and restart, or after: either way a failure with its reason.
            #expect(
                result.stderr.contains("service 'looping' keeps exiting: exited")
                    || result.stderr.contains("service 'looping' exited with code 4"), "\(result.stderr)")
            #expect(result.stderr.contains("looping | looping: cannot bind"), "\(result.stderr)")
            #expect(result.stderr.contains("service 'dependent' was not started: 'crash' failed"), "\(result.stderr)")
            #expect(!result.stderr.contains("is up"), "\(result.stderr)")
            #expect(try await project.containers()["dependent"] == nil, "a dependent of a crash is never created")
            let rows = try await project.statusRows()
            #expect(rows.first { $0["service"] as? String == "fine" }?["state"] as? String == "running")
            #expect(!result.stderr.contains("'oneshot'"), "a one-shot that ends with 0 did its work: \(result.stderr)")
        }
    }
}
