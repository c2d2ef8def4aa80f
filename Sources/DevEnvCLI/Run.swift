import ArgumentParser
import DevEnvCore
import DockerEngine
import Foundation
import Platform
import StateStore

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a one-off command in a new container of a service, and exit with its exit code.",
        discussion: """
            The service's dependencies come up first (--no-deps leaves them), then a new container of the \
            service runs CMD (its own command when none is given) with the service's image, environment \
            (x-devenv filled in), mounts, secrets and networks. It publishes no ports unless --service-ports. \
            Standard input is forwarded; a TTY is allocated as in exec. The container stays afterwards \
            unless --rm; 'devenv down' removes it with the project.
            """)

    struct Result: Encodable {
        var service: String
        var container: String
        var exitCode: Int
        var removed: Bool
    }

    @OptionGroup var project: ProjectOptions
    @Flag(help: "Remove the container when the command ends.") var rm = false
    @Flag(help: "Do not bring the service's dependencies up first.") var noDeps = false
    @Flag(help: "Publish the service's ports as up does.") var servicePorts = false
    @Option(name: [.customShort("e"), .customLong("env")], help: "KEY=VALUE (repeatable).") var env: [String] = []
    @Option(help: "Replace the image's entrypoint (a command line, split as a shell would).") var entrypoint: String?
    @OptionGroup var terminal: TerminalOptions
    @Flag(
        help:
            "Print the result as JSON on stdout ({service, container, exit_code, removed}); the command's output goes to stderr."
    ) var json = false
    @Option(help: "Seconds a dependency may take to become healthy.") var timeout: Double = 300
    @Argument(help: "The service.") var service: String
    @Argument(parsing: .postTerminator, help: "The command, after --.") var command: [String] = []

    func validate() throws {
        for pair in env where !pair.contains("=") {
            throw ValidationError("-e \(pair): expected KEY=VALUE")
        }
        if let entrypoint, ShellWords.split(entrypoint) == nil {
            throw ValidationError("--entrypoint \(entrypoint): unbalanced quotes")
        }
    }

    func run() async throws {
        let stack = try project.loadStack().stack
        let engine = try await connectEngine()
        let tty = terminal.wantsTTY(scripted: json)
        let options = RunOptions(
            command: command.isEmpty ? nil : command, entrypoint: entrypoint.flatMap(ShellWords.split),
            environment: env, user: terminal.user, workingDirectory: terminal.workdir, noDependencies: noDeps,
            servicePorts: servicePorts, tty: tty, readinessTimeout: timeout)
        let created: RunContainer
        let orchestrator = Orchestrator(
            engine: engine, stack: stack, store: try StateStore(), progress: ProgressPrinter(json: false))
        do {
            // Locked while dependencies converge and the container is made, not while it runs.
            let lock = try await lockProject(stack.name, command: "devenv run")
            defer { withExtendedLifetime(lock) {} }
            let service = service
            created = try await runInterruptibly {
                try await orchestrator.createRunContainer(service, options: options)
            }
        } catch let failure as UpFailure {
            printServiceFailures(failure.failures)
            throw CommandFailure(exitCode: 1)
        }
        let streams = AttachedStreams(output: json ? .standardError : .standardOutput)
        let id = created.id
        let session: @Sendable () async throws -> Int = {
            let connection = try await engine.attachContainerHijacked(id)
            try await orchestrator.startContainer(id)
            try await streams.pump(connection, tty: tty) { rows, columns in
                try await engine.resizeContainer(id, rows: rows, columns: columns)
            }
            return try await engine.waitContainer(id).StatusCode
        }
        let exitCode: Int
        do {
            // With a TTY, Ctrl-C is a key for the program in the container, not a signal for devenv.
            exitCode = tty ? try await session() : try await runInterruptibly(session)
        } catch {
            if rm { try? await engine.removeContainer(id, force: true, volumes: true) }
            throw error
        }
        if rm { try await engine.removeContainer(id, force: true, volumes: true) }
        if json {
            try Output(json: true).printJSON(
                Result(service: created.service, container: created.container, exitCode: exitCode, removed: rm))
        }
        if exitCode != 0 { throw CommandFailure(exitCode: Int32(truncatingIfNeeded: exitCode)) }
    }
}
