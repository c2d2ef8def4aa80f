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
            let process = Process()
            process.executableURL = devenvExecutable()
            process.arguments = project.withProject(["up", "--attach"])
            process.currentDirectoryURL = URL(fileURLWithPath: project.directory)
            var environment = ProcessInfo.processInfo.environment
            for case let (key, value?) in project.environment { environment[key] = value }
            process.environment = environment
            let output = Pipe()
            let errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            process.standardInput = FileHandle.nullDevice
            let seen = Mutexed("")
            output.fileHandleForReading.readabilityHandler = { handle in
                let data = handle.availableData
                seen.update { $0 += String(decoding: data, as: UTF8.self) }
            }
            try process.run()
            defer { if process.isRunning { process.terminate() } }

            let deadline = ContinuousClock.now + .seconds(120)
            while ContinuousClock.now < deadline, !seen.get().contains("tick 3"), process.isRunning {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(seen.get().contains("ticker | tick 3"), "\(engine.name): \(seen.get().suffix(300))")
            process.interrupt()
            let stopBy = ContinuousClock.now + .seconds(30)
            while process.isRunning, ContinuousClock.now < stopBy { try await Task.sleep(for: .milliseconds(100)) }
            output.fileHandleForReading.readabilityHandler = nil
            #expect(!process.isRunning, "\(engine.name): up --attach did not end on Ctrl-C")
            #expect(process.terminationStatus == 0, "\(engine.name)")
            let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(stderr.contains("keeps running"), "\(engine.name): \(stderr)")
            let rows = try await project.statusRows()
            #expect(rows.first?["state"] as? String == "running", "\(engine.name): \(rows)")
        }
    }
}
