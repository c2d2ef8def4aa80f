import Foundation
import Platform

/// Starts `devenv ARGUMENTS` (this same binary) detached: output discarded, `input` (if any)
/// written to its stdin, and returns at once; the work outlives this command. Failing to start
/// costs only the speed-up the work was for, so it is silent.
func runInBackground(_ arguments: [String], environment: [String: String]? = nil, input: Data? = nil) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Processes.executablePath())
    process.arguments = arguments
    if let environment { process.environment = environment }
    let pipe = input.map { _ in Pipe() }
    process.standardInput = pipe ?? FileHandle.nullDevice
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return }
    if let pipe, let input {
        try? pipe.fileHandleForWriting.write(contentsOf: input)
        try? pipe.fileHandleForWriting.close()
    }
}
