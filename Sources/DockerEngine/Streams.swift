import Foundation

/// Which stream a frame of a multiplexed log/attach/exec stream belongs to.
public enum ContainerStream: UInt8, Sendable, Codable {
    case stdin = 0
    case stdout = 1
    case stderr = 2
    /// Emitted by newer engines for the exec "system error" channel.
    case systemError = 3
}

/// One frame of container output.
public struct OutputFrame: Sendable, Equatable {
    public var stream: ContainerStream
    public var payload: Data

    public init(stream: ContainerStream, payload: Data) {
        self.stream = stream
        self.payload = payload
    }

    public var text: String { String(decoding: payload, as: UTF8.self) }
}

/// Splits the engine's multiplexed stream (`[type, 0, 0, 0, size32be]` + payload) into frames.
/// Chunks may split a header or a payload anywhere; the demuxer keeps what it has not used.
public struct MultiplexedStreamDemuxer: Sendable {
    private var buffer = Data()
    /// Frames larger than this are treated as a corrupt stream rather than buffered forever.
    public var maxFrameSize: Int

    public init(maxFrameSize: Int = 64 << 20) {
        self.maxFrameSize = maxFrameSize
    }

    /// Bytes received but not yet forming a whole frame.
    public var pendingByteCount: Int { buffer.count }

    /// Feeds a chunk; returns every frame it completes.
    public mutating func feed(_ chunk: Data) throws -> [OutputFrame] {
        buffer.append(chunk)
        var frames: [OutputFrame] = []
        var offset = buffer.startIndex
        while buffer.endIndex - offset >= 8 {
            let kind = buffer[offset]
            guard let stream = ContainerStream(rawValue: kind),
                buffer[offset + 1] == 0, buffer[offset + 2] == 0, buffer[offset + 3] == 0
            else {
                throw DockerEngineError(
                    .malformedResponse,
                    "docker engine sent a malformed output frame header (stream byte \(kind)); is the container using a TTY?"
                )
            }
            let size = buffer[(offset + 4)..<(offset + 8)].reduce(0) { ($0 << 8) | Int($1) }
            guard size <= maxFrameSize else {
                throw DockerEngineError(.malformedResponse, "docker engine sent an output frame of \(size) bytes")
            }
            guard buffer.endIndex - offset - 8 >= size else { break }
            let start = offset + 8
            frames.append(OutputFrame(stream: stream, payload: Data(buffer[start..<(start + size)])))
            offset = start + size
        }
        buffer.removeSubrange(buffer.startIndex..<offset)
        return frames
    }

    /// Call at end of stream: leftover bytes mean the stream was cut mid-frame.
    public func finish() throws {
        if !buffer.isEmpty {
            throw DockerEngineError(
                .malformedResponse, "docker engine output stream ended inside a frame (\(buffer.count) bytes left)")
        }
    }
}

/// Splits a byte stream into lines (for NDJSON progress streams).
public struct LineSplitter: Sendable {
    private var buffer = Data()
    public init() {}

    public mutating func feed(_ chunk: Data) -> [Data] {
        buffer.append(chunk)
        var lines: [Data] = []
        var start = buffer.startIndex
        while let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
            let line = buffer[start..<newline]
            if !line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { lines.append(Data(line)) }
            start = newline + 1
        }
        buffer.removeSubrange(buffer.startIndex..<start)
        return lines
    }

    /// The last line when the stream did not end with a newline.
    public mutating func finish() -> Data? {
        defer { buffer = Data() }
        let rest = buffer.filter { $0 != UInt8(ascii: "\r") }
        return rest.allSatisfy { $0 == UInt8(ascii: " ") } ? nil : rest
    }
}

/// One line of a build or pull progress stream.
public struct ProgressEvent: Sendable, Decodable, Equatable {
    public struct Detail: Sendable, Decodable, Equatable {
        public var current: Int?
        public var total: Int?
        public var message: String?
    }
    public struct Aux: Sendable, Decodable, Equatable {
        public var ID: String?
    }

    /// Build output text (`{"stream": "Step 1/3 : FROM …"}`).
    public var stream: String?
    /// Pull status (`Downloading`, `Pull complete`…).
    public var status: String?
    public var id: String?
    public var progress: String?
    public var progressDetail: Detail?
    public var aux: Aux?
    public var error: String?
    public var errorDetail: Detail?

    public init(stream: String? = nil, status: String? = nil, id: String? = nil) {
        self.stream = stream
        self.status = status
        self.id = id
    }
}

/// Decodes an NDJSON progress stream; an `{"error": …}` line ends it with `.stream` error.
public func progressEvents(
    from chunks: AsyncThrowingStream<Data, any Error>
) -> AsyncThrowingStream<ProgressEvent, any Error> {
    AsyncThrowingStream { continuation in
        let task = Task {
            var splitter = LineSplitter()
            let decoder = JSONDecoder()
            func emit(_ line: Data) throws {
                let event: ProgressEvent
                do {
                    event = try decoder.decode(ProgressEvent.self, from: line)
                } catch {
                    let text = String(decoding: line.prefix(200), as: UTF8.self)
                    throw DockerEngineError(
                        .malformedResponse, "docker engine sent a progress line that is not JSON: \(text)")
                }
                if let message = event.error ?? event.errorDetail?.message {
                    throw DockerEngineError(.stream, message.trimmingCharacters(in: .whitespacesAndNewlines))
                }
                continuation.yield(event)
            }
            do {
                for try await chunk in chunks {
                    for line in splitter.feed(chunk) { try emit(line) }
                }
                if let last = splitter.finish() { try emit(last) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
    }
}

/// Demuxes a multiplexed (or, for TTY containers, raw) output stream into frames.
public func outputFrames(
    from chunks: AsyncThrowingStream<Data, any Error>, tty: Bool
) -> AsyncThrowingStream<OutputFrame, any Error> {
    AsyncThrowingStream { continuation in
        let task = Task {
            var demuxer = MultiplexedStreamDemuxer()
            do {
                for try await chunk in chunks {
                    if tty {
                        continuation.yield(OutputFrame(stream: .stdout, payload: chunk))
                    } else {
                        for frame in try demuxer.feed(chunk) { continuation.yield(frame) }
                    }
                }
                try demuxer.finish()
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
    }
}
