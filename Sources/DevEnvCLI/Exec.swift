import ArgumentParser
import DevEnvCore
import DockerEngine
import Foundation
import Platform

struct Exec: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a command in a running service and exit with its exit code.",
        discussion:
            "Standard input is forwarded (devenv exec db -- psql -U app < dump.sql); output streams as it comes. A TTY is allocated when standard input and output are terminals (or with -t): the local terminal goes raw and the window size follows."
    )

    @OptionGroup var project: ProjectOptions
    @OptionGroup var terminal: TerminalOptions
    @Option(name: [.customShort("e"), .customLong("env")], help: "KEY=VALUE (repeatable).") var env: [String] = []
    @Argument(help: "The service.") var service: String
    @Argument(parsing: .postTerminator, help: "The command, after --.") var command: [String] = []

    func run() async throws {
        let stack = try project.projectOnly()
        let engine = try await connectEngine()
        let (command, service, env, workdir, user) = (command, service, env, terminal.workdir, terminal.user)
        let tty = terminal.wantsTTY()
        let session: @Sendable () async throws -> Int = {
            try await ExecSession.run(
                command, in: service, of: stack, engine: engine, environment: env, workingDirectory: workdir,
                user: user,
                tty: tty)
        }
        // With a TTY, Ctrl-C is a key for the program in the container, not a signal for devenv.
        let exitCode = tty ? try await session() : try await runInterruptibly(session)
        if exitCode != 0 { throw CommandFailure(exitCode: Int32(truncatingIfNeeded: exitCode)) }
    }
}
