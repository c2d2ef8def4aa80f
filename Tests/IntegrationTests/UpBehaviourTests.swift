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
            let count = ["exec", "db", "--", "psql", "-U", "postgres", "-d", "app", "-tAc", "SELECT count(*) FROM items"]
            let skipped = try await project.devenv(["up", "db", "--no-seed"])
            #expect(skipped.status == 0, "\(skipped.stderr)")
            #expect(!skipped.stderr.contains("seeded"), "\(skipped.stderr)")
            #expect(try await project.devenv(count).stdout == "0\n")

            let seeded = try await project.devenv(["up", "db"])
            #expect(seeded.status == 0, "\(seeded.stderr)")
            #expect(try await project.devenv(count).stdout == "1000\n")
        }
    }
}
