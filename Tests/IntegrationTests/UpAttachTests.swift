import Foundation
import TestSupport
import Testing

/// `devenv up --attach` on every engine (issue #18): once the stack is up it follows the
/// services' logs, prefixed, until Ctrl-C, which ends it with exit 0 and leaves the services
/// running.
@Suite(.serialized) struct UpAttachTests {
    static let compose = """
        services:
          ticker:
            image: debian:bookworm-slim
            command: ["sh", "-c", "trap exit TERM; i=0; while true; do i=$$((i+1)); echo tick $$i; sleep 0.3; done"]
        """

    @Test(arguments: TestEngine.all)
    func followsTheLogsUntilInterruptedAndLeavesTheStackUp(engine: TestEngine) async throws {
        try await DevenvProject(files: ["compose.yaml": Self.compose], engine: engine).run { project in
            let attached = try project.background(["up", "--attach"])
            let seen = attached.stdout
            let deadline = ContinuousClock.now + .seconds(120)
            while ContinuousClock.now < deadline, !seen.get().contains("tick 3"), attached.process.isRunning {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(seen.get().contains("ticker | tick 3"), "\(engine.name): \(seen.get().suffix(300))")
            let status = try await attached.interrupt()
            #expect(
                status == 0, "\(engine.name): up --attach did not end with 0 on Ctrl-C: \(String(describing: status))")
            #expect(attached.stderr.get().contains("keeps running"), "\(engine.name): \(attached.stderr.get())")
            let rows = try await project.statusRows()
            #expect(rows.first?["state"] as? String == "running", "\(engine.name): \(rows)")
        }
    }
}
