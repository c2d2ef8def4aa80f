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
        let arguments = command
        guard !arguments.isEmpty else {
            throw CLIError(message: "no command given: devenv exec \(service) -- CMD…", exitCode: 2)
        }
        let stack = try project.projectOnly()
        let engine = try await connectEngine()
        let container = try await engine.listContainers(
            all: false, labels: [ProjectLabel.project: stack.name, ProjectLabel.service: service]
        ).first
        guard let container else {
            throw CLIError(
                message: "service '\(service)' of \(stack.name) is not running; start it with 'devenv up \(service)'")
        }
        var attached = ExecConfig(cmd: arguments, env: env.isEmpty ? nil : env, workingDir: workdir, user: user)
        attached.AttachStdin = true
        let config = attached
        let exitCode = try await runInterruptibly { () -> Int in
            let id = try await engine.createExec(container: container.Id, config: config)
            let connection = try await engine.startExecAttached(id)
            // Our stdin to the process until EOF, on a thread of its own (reads block).
            Thread.detachNewThread {
                let input = FileHandle.standardInput
                while true {
                    let chunk = input.availableData
                    if chunk.isEmpty || (try? connection.write(chunk)) == nil { break }
                }
                connection.closeInput()
            }
            try await offCooperativePool {
                var demuxer = MultiplexedStreamDemuxer()
                while let chunk = try connection.readChunk() {
                    for frame in try demuxer.feed(chunk) {
                        (frame.stream == .stderr ? FileHandle.standardError : FileHandle.standardOutput).write(
                            frame.payload)
                    }
                }
            }
            var inspect = try await engine.inspectExec(id)
            while inspect.Running {
                try await Task.sleep(for: .milliseconds(20))
                inspect = try await engine.inspectExec(id)
            }
            return inspect.ExitCode ?? 1
        }
        if exitCode != 0 { throw CommandFailure(exitCode: Int32(truncatingIfNeeded: exitCode)) }
    }
}
