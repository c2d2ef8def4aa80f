import ArgumentParser
import DevEnvCore
import DockerEngine
import Foundation

struct Exec: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a command in a running service and exit with its exit code.",
        discussion:
            "Standard input is forwarded (devenv exec db -- psql -U app < dump.sql); output streams as it comes. No TTY is allocated."
    )

    @OptionGroup var project: ProjectOptions
    @Flag(name: .customShort("T"), help: "No TTY (the default; accepted for compose compatibility).") var noTTY = false
    @Option(name: [.customShort("w"), .long], help: "Working directory in the container.") var workdir: String?
    @Option(name: [.customShort("u"), .long], help: "User in the container.") var user: String?
    @Option(name: [.customShort("e"), .customLong("env")], help: "KEY=VALUE (repeatable).") var env: [String] = []
    @Argument(help: "The service.") var service: String
    @Argument(parsing: .postTerminator, help: "The command, after --.") var command: [String] = []

    func run() async throws {
        let stack = try project.projectOnly()
        let engine = try await connectEngine()
        let (command, service, env, workdir, user) = (command, service, env, workdir, user)
        let exitCode = try await runInterruptibly {
            try await ExecSession.run(
                command, in: service, of: stack, engine: engine, environment: env, workingDirectory: workdir, user: user
            )
        }
        if exitCode != 0 { throw CommandFailure(exitCode: Int32(truncatingIfNeeded: exitCode)) }
    }
}
