import DevEnvModel
import DockerEngine
import Foundation

/// `devenv exec`: a command in a service's running container, its standard input forwarded
/// until end of file and its output streamed as it comes.
public enum ExecSession {
    /// Runs `command` in `service`'s running container; returns its exit code.
    public static func run(
        _ command: [String], in service: String, of stack: Stack, engine: DockerClient, environment: [String] = [],
        workingDirectory: String? = nil, user: String? = nil, input: FileHandle = .standardInput,
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
            cmd: command, env: environment.isEmpty ? nil : environment, workingDir: workingDirectory, user: user)
        config.AttachStdin = true
        let id = try await engine.createExec(container: container.Id, config: config)
        let connection = try await engine.startExecAttached(id)
        // The input to the process until EOF, on a thread of its own (reads block).
        Thread.detachNewThread {
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
                    (frame.stream == .stderr ? errors : output).write(frame.payload)
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
}
