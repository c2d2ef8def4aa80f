import DevEnvModel
import DockerEngine
import Foundation

/// `devenv exec`: a command in a service's running container, its standard input forwarded
/// until end of file and its output streamed as it comes.
public enum ExecSession {
    /// Runs `command` in `service`'s running container; returns its exit code.
    public static func run(
        _ command: [String], in service: String, of stack: Stack, engine: DockerClient, environment: [String] = [],
        workingDirectory: String? = nil, user: String? = nil, tty: Bool = false, input: FileHandle = .standardInput,
        output: FileHandle = .standardOutput, errors: FileHandle = .standardError
    ) async throws -> Int {
        guard !command.isEmpty else {
            throw DevEnvError("no command given: devenv exec \(service) -- CMD…", exitCode: 2)
        }
        let container = try await engine.listContainers(
            all: false, labels: [ProjectLabel.project: stack.name, ProjectLabel.service: service]
        ).first
        guard let container else {
            throw DevEnvError(
                "service '\(service)' of \(stack.name) is not running; start it with 'devenv up \(service)'")
        }
        var config = ExecConfig(
            cmd: command, env: environment.isEmpty ? nil : environment, workingDir: workingDirectory, user: user,
            tty: tty)
        config.AttachStdin = true
        let id = try await engine.createExec(container: container.Id, config: config)
        let streams = AttachedStreams(input: input, output: output, errors: errors)
        let connection = try await engine.startExecAttached(id, tty: tty, size: tty ? streams.windowSize : nil)
        try await streams.pump(connection, tty: tty) { rows, columns in
            try await engine.resizeExec(id, rows: rows, columns: columns)
        }
        var inspect = try await engine.inspectExec(id)
        while inspect.Running {
            try await Task.sleep(for: .milliseconds(20))
            inspect = try await engine.inspectExec(id)
        }
        return inspect.ExitCode ?? 1
    }
}
