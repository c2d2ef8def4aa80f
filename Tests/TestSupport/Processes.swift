import Foundation
import Platform

/// The directory the test binary and the package's executables are built into.
public func productsDirectory() -> URL {
    URL(fileURLWithPath: Processes.executablePath()).deletingLastPathComponent()
}

/// What a finished process printed and returned.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs an executable to the end with `environment` laid over this process's environment
/// (a `nil` value removes the variable).
public func runProcess(
    _ executable: URL, _ arguments: [String], environment: [String: String?] = [:], currentDirectory: String? = nil,
    input: Data? = nil
) throws -> ProcessResult {
    // A child that exits before reading all of `input` must fail the test, not kill it.
    SignalTrap.ignore(Signal.brokenPipe)
    let process = Process()
    process.executableURL = executable
    if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
    process.arguments = arguments
    var merged = ProcessInfo.processInfo.environment
    for (key, value) in environment { merged[key] = value }
    process.environment = merged
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let stdin = Pipe()
    process.standardInput = input == nil ? FileHandle.nullDevice : stdin
    try process.run()
    if let input {
        stdin.fileHandleForWriting.write(input)
        try? stdin.fileHandleForWriting.close()
    }
    // Read both pipes concurrently so neither fills and blocks the child.
    let errData = Mutexed<Data>(Data())
    let reader = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
    reader.start()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    while !reader.isFinished { usleep(1000) }
    return ProcessResult(
        status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData.get(), as: UTF8.self))
}

/// The built `devenv` executable.
public func devenvExecutable() -> URL { productsDirectory().appendingPathComponent("devenv") }

/// A value behind a lock, for handing results between threads in tests.
public final class Mutexed<Value: Sendable>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    public init(_ value: Value) { self.value = value }
    public func get() -> Value { lock.withLock { value } }
    public func set(_ newValue: Value) { lock.withLock { value = newValue } }
    public func update(_ body: (inout Value) -> Void) { lock.withLock { body(&value) } }
}

/// The native PostgreSQL `make test` starts (Tests/scripts/native-postgres.sh), as a URL.
public func nativeServerURL() throws -> String {
    guard let url = ProcessInfo.processInfo.environment["DEVENV_TEST_PG_URL"] else {
        throw MissingTestServer()
    }
    return url
}

/// `url` with another login and database: `postgresql://USER:PASSWORD@host:port/DATABASE`.
public func postgresURL(_ url: String, user: String, password: String?, database: String) -> String {
    var components = URLComponents(string: url)!
    components.user = user
    components.password = password
    components.path = "/" + database
    return components.string!
}

public struct MissingTestServer: Error, CustomStringConvertible {
    public init() {}
    public var description: String {
        "DEVENV_TEST_PG_URL is not set: run 'make test', or start Tests/scripts/native-postgres.sh and export its URL"
    }
}

/// `runProcess` for async tests: the wait happens on a thread of its own, so a long-running
/// process never holds one of the cooperative pool's few threads.
public func runProcessAsync(
    _ executable: URL, _ arguments: [String], environment: [String: String?] = [:], currentDirectory: String? = nil,
    input: Data? = nil
) async throws -> ProcessResult {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(
                with: Result {
                    try runProcess(
                        executable, arguments, environment: environment, currentDirectory: currentDirectory,
                        input: input)
                })
        }
    }
}
