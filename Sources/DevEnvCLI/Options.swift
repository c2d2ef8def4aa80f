import ArgumentParser
import DevEnvCore
import DockerEngine
import Foundation
import Platform
import StateStore

/// `-f FILE`, `-p NAME` and `--profile`, shared by every command that works on a stack.
struct ProjectOptions: ParsableArguments {
    @Option(
        name: [.customShort("f"), .customLong("file")],
        help: "Stack file (repeatable; later files override earlier ones; default: COMPOSE_FILE, then compose.yaml).")
    var files: [String] = []

    @Option(
        name: [.customShort("p"), .customLong("project-name")],
        help: "Project name (default: COMPOSE_PROJECT_NAME, the file's name:, or the directory).")
    var projectName: String?

    @Option(name: .customLong("profile"), help: "Enable services of this profile (repeatable).")
    var profiles: [String] = []

    /// Loads and validates the stack; warnings go to stderr, errors end the command with exit 2
    /// before the engine is touched.
    func loadStack() throws -> LoadedStack {
        do {
            let loaded = try StackLoader.load(
                StackLoadOptions(files: files, projectName: projectName, profiles: profiles))
            for warning in loaded.warnings { printError(warning.description) }
            return loaded
        } catch {
            for diagnostic in error.diagnostics { printError(diagnostic.description) }
            throw CommandFailure(exitCode: 2)
        }
    }

    /// The project name for commands that need only the name (`down`, `status`, `logs`): from
    /// the stack file when there is one, else `-p`.
    func projectOnly() throws -> Stack {
        if files.isEmpty, let projectName, ProcessInfo.processInfo.environment["COMPOSE_FILE"] == nil,
            !StackLoader.defaultFileNames.contains(where: { FileManager.default.fileExists(atPath: $0) })
        {
            let name = StackLoader.normalizeProjectName(projectName)
            return Stack(
                name: name, services: [], volumes: [], networks: [],
                workingDirectory: FileManager.default.currentDirectoryPath, files: [])
        }
        return try loadStack().stack
    }
}

/// The engine from `DOCKER_HOST`/`DOCKER_API_VERSION`, checked with `/_ping` so that an
/// unreachable engine fails at once with one line naming the socket or host.
func connectEngine() async throws -> DockerClient {
    let client = try DockerClient.fromEnvironment()
    _ = try await client.apiVersion()
    return client
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Runs `work` so that Ctrl-C cancels it promptly (exit 130); a second Ctrl-C exits at once.
func runInterruptibly<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
    let task = Task { try await work() }
    let interrupts = Mutexed(0)
    let trap = SignalTrap([Signal.interrupt]) { _ in
        interrupts.update { $0 += 1 }
        if interrupts.value > 1 { Foundation.exit(130) }
        task.cancel()
    }
    defer { trap.cancel() }
    do {
        return try await task.value
    } catch {
        if task.isCancelled { throw CLIError(message: "interrupted", exitCode: 130) }
        throw error
    }
}

/// A small lock-protected box for state shared with signal handlers and printers.
final class Mutexed<Value>: @unchecked Sendable {
    private var stored: Value
    private let lock = NSLock()
    init(_ value: Value) { stored = value }
    var value: Value { lock.withLock { stored } }
    func update<R>(_ body: (inout Value) -> R) -> R { lock.withLock { body(&stored) } }
}

/// Takes the project's lock for `up`/`down`, telling the user when another devenv holds it.
func lockProject(_ name: String, command: String) async throws -> ProjectLock {
    try await ProjectLock.acquire(project: name, command: command) { holder in
        let who =
            holder.map {
                "\($0.command) (pid \($0.pid), since \(ISO8601DateFormatter().string(from: $0.since)))"
            } ?? "another devenv"
        printError("devenv: project \(name) is busy: \(who); waiting for it to finish")
    }
}

/// How `exec` and `run` attach: a TTY on a terminal or with `-t`, none with `-T`, and the user
/// and working directory in the container.
struct TerminalOptions: ParsableArguments {
    @Flag(name: .customShort("T"), help: "No TTY, even on a terminal.") var noTTY = false
    @Flag(name: [.customShort("t"), .long], help: "A TTY, even when not on a terminal.") var tty = false
    @Flag(
        name: .customShort("i"),
        help: "Keep standard input open (always the case; accepted as docker compose takes it).")
    var interactive = false
    @Option(name: [.customShort("w"), .long], help: "Working directory in the container.") var workdir: String?
    @Option(name: [.customShort("u"), .long], help: "User in the container.") var user: String?

    /// Whether to allocate a TTY: asked for, or standard input and output are terminals
    /// (never when the output is for a script).
    func wantsTTY(scripted: Bool = false) -> Bool {
        !noTTY && (tty || (!scripted && Host.isTerminal(Host.standardInput) && Host.isTerminal(Host.standardOutput)))
    }
}
