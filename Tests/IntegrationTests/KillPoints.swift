import Foundation
import TestSupport

extension DevenvProject {
    /// Where an `up` can be killed, as its `--json` progress shows it: the event that says
    /// the step is under way.
    struct KillPoint: Sendable, CustomStringConvertible {
        var service: String
        var status: String
        var message: String? = nil
        var description: String { "\(service) \(status)" + (message.map { " \($0)" } ?? "") }

        func matches(_ event: [String: Any]) -> Bool {
            event["service"] as? String == service && event["status"] as? String == status
                && (message.map { (event["message"] as? String ?? "").contains($0) } ?? true)
        }
    }

    /// Runs `up --json` and SIGKILLs devenv itself (no shell between) as soon as `point`'s
    /// event is printed; whether it was seen before devenv ended on its own.
    func killUp(at point: KillPoint, environment extra: [String: String] = [:]) async throws -> Bool {
        let project = self
        let process = Process()
        process.executableURL = devenvExecutable()
        process.arguments = project.withProject(["up", "--json"])
        process.currentDirectoryURL = URL(fileURLWithPath: project.directory)
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in project.environment { environment[key] = value }
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let reader = output.fileHandleForReading
        return await Task.detached {
            var buffered = Data()
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { return false }
                buffered += chunk
                while let newline = buffered.firstIndex(of: 10) {
                    let line = buffered[buffered.startIndex..<newline]
                    buffered = Data(buffered[buffered.index(after: newline)...])
                    if let event = try? JSONSerialization.jsonObject(with: line) as? [String: Any], point.matches(event)
                    {
                        kill(process.processIdentifier, SIGKILL)
                        process.waitUntilExit()
                        return true
                    }
                }
            }
        }.value
    }

}
