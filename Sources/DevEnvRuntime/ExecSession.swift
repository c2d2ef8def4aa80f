import DevEnvModel
import DockerEngine
import Foundation
import Platform

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
        let windowSize: @Sendable () -> (rows: Int, columns: Int)? = {
            Host.terminalSize(output.fileDescriptor) ?? Host.terminalSize(input.fileDescriptor)
        }
        let connection = try await engine.startExecAttached(id, tty: tty, size: tty ? windowSize() : nil)
        // With a TTY the local terminal goes raw (keys reach the program as typed) until the
        // end, and the remote one follows the local window's size: set at once after the start
        // (engines before API 1.42 start it at 0×0), then on every SIGWINCH.
        let raw = tty ? Host.makeRaw(input.fileDescriptor) : nil
        defer { raw?.restore() }
        var resizes: SignalTrap?
        if tty {
            if let size = windowSize() { try? await engine.resizeExec(id, rows: size.rows, columns: size.columns) }
            resizes = SignalTrap([Signal.windowChange]) { _ in
                guard let size = windowSize() else { return }
                Task { try? await engine.resizeExec(id, rows: size.rows, columns: size.columns) }
            }
        }
        defer { resizes?.cancel() }
        // The input to the process until EOF, on a thread of its own (reads block).
        Thread.detachNewThread {
            while true {
                let chunk = input.availableData
                if chunk.isEmpty || (try? connection.write(chunk)) == nil { break }
            }
            connection.closeInput()
        }
        try await offCooperativePool {
            // A TTY's output is one raw stream; without one, stdout and stderr come framed.
            var demuxer = MultiplexedStreamDemuxer()
            while let chunk = try connection.readChunk() {
                if tty {
                    output.write(chunk)
                    continue
                }
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
