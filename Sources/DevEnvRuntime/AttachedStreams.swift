import DockerEngine
import Foundation
import Platform

/// The local end of an attached exec or container (`devenv exec`, `devenv run`): standard input
/// forwarded until end of file, output written as it comes, and with a TTY the local terminal
/// raw and the remote one the local window's size.
public struct AttachedStreams: Sendable {
    public var input: FileHandle
    public var output: FileHandle
    public var errors: FileHandle

    public init(
        input: FileHandle = .standardInput, output: FileHandle = .standardOutput, errors: FileHandle = .standardError
    ) {
        self.input = input
        self.output = output
        self.errors = errors
    }

    /// The local window's size (rows, columns), when one of the streams is a terminal.
    public var windowSize: (rows: Int, columns: Int)? {
        Host.terminalSize(output.fileDescriptor) ?? Host.terminalSize(input.fileDescriptor)
    }

    /// Pumps `connection` until the remote side ends its output. With `tty`: the local terminal
    /// raw until then, `resize` called at once (engines before API 1.42 start a TTY at 0×0) and
    /// on every SIGWINCH, and the output one raw stream; without, stdout and stderr come framed.
    public func pump(
        _ connection: HijackedConnection, tty: Bool, resize: @escaping @Sendable (Int, Int) async throws -> Void
    ) async throws {
        let raw = tty ? Host.makeRaw(input.fileDescriptor) : nil
        defer { raw?.restore() }
        var resizes: SignalTrap?
        if tty {
            if let size = windowSize { try? await resize(size.rows, size.columns) }
            let streams = self
            resizes = SignalTrap([Signal.windowChange]) { _ in
                guard let size = streams.windowSize else { return }
                Task { try? await resize(size.rows, size.columns) }
            }
        }
        defer { resizes?.cancel() }
        // The input on a thread of its own (reads block), until EOF.
        let input = input
        Thread.detachNewThread {
            while true {
                let chunk = input.availableData
                if chunk.isEmpty || (try? connection.write(chunk)) == nil { break }
            }
            connection.closeInput()
        }
        let (output, errors) = (output, errors)
        try await offCooperativePool {
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
    }
}
