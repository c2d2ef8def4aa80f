import ArgumentParser
import DevEnvCore
import Foundation
import StateStore

/// What every container lifecycle command takes: the project, the services (all when none
/// are named) and `--json`.
struct LifecycleOptions: ParsableArguments {
    @OptionGroup var project: ProjectOptions
    @Argument(help: "Services (default: all).") var services: [String] = []
    @Flag(help: "Print one JSON event per line (as up and down do).") var json = false

    /// Runs `action` under the project's lock with its progress printed (one event per service
    /// acted on, then `done`); says so when there was nothing to do.
    func run(
        _ command: String, loadsFile: Bool = false,
        _ action: @escaping @Sendable (Orchestrator, [String]) async throws -> [String]
    ) async throws {
        // build and pull need the file's definitions; the container commands only the name.
        let stack = loadsFile ? try project.loadStack().stack : try project.projectOnly()
        let engine = try await connectEngine()
        let lock = try await lockProject(stack.name, command: "devenv \(command)")
        defer { withExtendedLifetime(lock) {} }
        // A build records its inputs, for plan's list of changed files.
        let orchestrator = Orchestrator(
            engine: engine, stack: stack, store: loadsFile ? try StateStore() : nil,
            progress: ProgressPrinter(json: json))
        let services = services
        let acted = try await runInterruptibly { try await action(orchestrator, services) }
        if !json, acted.isEmpty {
            printError("devenv: \(command): nothing to do")
        }
    }
}

struct Stop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stop the services' running containers (dependents first); nothing is removed.")
    @OptionGroup var options: LifecycleOptions
    @Option(name: .shortAndLong, help: "Seconds to wait for each container to stop (default: its stop_grace_period).")
    var timeout: Int?

    func run() async throws {
        let timeout = timeout
        try await options.run("stop") { try await $0.stop($1, timeout: timeout) }
    }
}

struct Start: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start the services' existing containers (dependencies first); 'up' creates missing ones.")
    @OptionGroup var options: LifecycleOptions

    func run() async throws {
        try await options.run("start") { try await $0.start($1) }
    }
}

struct Restart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stop and start the services' containers; the file's changes need 'up'.")
    @OptionGroup var options: LifecycleOptions
    @Option(name: .shortAndLong, help: "Seconds to wait for each container to stop.") var timeout: Int?

    func run() async throws {
        let timeout = timeout
        try await options.run("restart") { try await $0.restart($1, timeout: timeout) }
    }
}

struct Kill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Send a signal to the services' running containers.")
    @OptionGroup var options: LifecycleOptions
    @Option(name: .shortAndLong, help: "Signal name or number.") var signal = "SIGKILL"

    func run() async throws {
        let signal = signal
        try await options.run("kill") { try await $0.kill($1, signal: signal) }
    }
}

struct Pause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Freeze the services' running containers.")
    @OptionGroup var options: LifecycleOptions

    func run() async throws {
        try await options.run("pause") { try await $0.pause($1, paused: true) }
    }
}

struct Unpause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Thaw the services' paused containers.")
    @OptionGroup var options: LifecycleOptions

    func run() async throws {
        try await options.run("unpause") { try await $0.pause($1, paused: false) }
    }
}

struct Remove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove the services' stopped containers; volumes and secrets stay (down --volumes removes those).")
    @OptionGroup var options: LifecycleOptions
    @Flag(name: .shortAndLong, help: "Stop running containers first instead of refusing.") var stop = false
    @Flag(help: "Accepted as docker compose takes it; devenv never asks for confirmation.") var force = false

    func run() async throws {
        let stop = stop
        try await options.run("rm") { try await $0.remove($1, stopFirst: stop) }
    }
}

struct Build: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build the images of services with build: (even when up to date; the layer cache applies).")
    @OptionGroup var options: LifecycleOptions

    func run() async throws {
        try await options.run("build", loadsFile: true) { try await $0.build($1) }
    }
}

struct Pull: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pull the images of services that name one (not build:), even when present.")
    @OptionGroup var options: LifecycleOptions

    func run() async throws {
        try await options.run("pull", loadsFile: true) { try await $0.pull($1) }
    }
}
