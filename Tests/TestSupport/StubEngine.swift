import Foundation
import Platform
import Synchronization

/// A request as the stub engine received it.
public struct StubRequest: Sendable {
    public var method: String
    public var path: String
    public var headers: [String: String]
    public var body: Data
}

/// What the stub does to answer: write bytes, pause, or drop the connection.
public enum StubAction: Sendable {
    case write(Data)
    case sleep(milliseconds: Int)
    case close
}

/// An in-process HTTP/1.1 server on a unix socket, scripted per request, standing in for
/// dockerd in unit tests: chunked bodies, split frames, error bodies, slow and dropped
/// connections.
public final class StubEngine: Sendable {
    public let socketPath: String
    private let listener: UnixListener
    private let handler: @Sendable (StubRequest) -> [StubAction]
    private let received = Mutex<[StubRequest]>([])
    private let accepted = Mutex(0)

    public init(_ handler: @escaping @Sendable (StubRequest) -> [StubAction]) throws {
        socketPath = NSTemporaryDirectory() + "devenv-stub-\(UUID().uuidString.prefix(8)).sock"
        self.handler = handler
        listener = try UnixListener(path: socketPath)
        let server = self
        Thread.detachNewThread { server.acceptLoop() }
    }

    deinit { stop() }

    public var dockerHost: String { "unix://\(socketPath)" }

    /// Connections accepted so far.
    public var connectionCount: Int { accepted.withLock { $0 } }

    /// Every request received so far, in order.
    public var requests: [StubRequest] { received.withLock { $0 } }

    public func stop() {
        listener.stop()
    }

    private func acceptLoop() {
        while let descriptor = listener.accept() {
            accepted.withLock { $0 += 1 }
            let connection = SocketConnection(adopting: descriptor)
            Thread.detachNewThread { self.serve(connection) }
        }
    }

    private func serve(_ connection: SocketConnection) {
        var buffer = Data()
        while true {
            guard let request = readRequest(connection, &buffer) else { return }
            received.withLock { $0.append(request) }
            for action in handler(request) {
                switch action {
                case .write(let data):
                    if !connection.send(data) { return }
                case .sleep(let milliseconds):
                    Thread.sleep(forTimeInterval: Double(milliseconds) / 1000)
                case .close:
                    return
                }
            }
        }
    }

    private func readRequest(_ connection: SocketConnection, _ buffer: inout Data) -> StubRequest? {
        let separator = Data("\r\n\r\n".utf8)
        while buffer.range(of: separator) == nil {
            guard readMore(connection, &buffer) else { return nil }
        }
        let headEnd = buffer.range(of: separator)!
        let head = String(decoding: buffer[buffer.startIndex..<headEnd.lowerBound], as: UTF8.self)
        buffer.removeSubrange(buffer.startIndex..<headEnd.upperBound)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while buffer.count < length {
            guard readMore(connection, &buffer) else { return nil }
        }
        let body = Data(buffer.prefix(length))
        buffer.removeFirst(length)
        return StubRequest(
            method: String(requestLine[0]), path: requestLine.count > 1 ? String(requestLine[1]) : "/",
            headers: headers, body: body)
    }

    private func readMore(_ connection: SocketConnection, _ buffer: inout Data) -> Bool {
        guard let chunk = connection.receive(), !chunk.isEmpty else { return false }
        buffer.append(chunk)
        return true
    }
}

// MARK: response builders

public enum Reply {
    public static func head(_ status: Int, _ headers: [String: String]) -> String {
        var text = "HTTP/1.1 \(status) \(status < 300 ? "OK" : "Error")\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { text += "\(name): \(value)\r\n" }
        return text + "\r\n"
    }

    /// A whole response with Content-Length.
    public static func full(
        _ status: Int, _ body: Data, contentType: String = "application/json", headers: [String: String] = [:]
    ) -> [StubAction] {
        var all = headers
        all["Content-Type"] = contentType
        all["Content-Length"] = String(body.count)
        return [.write(Data(head(status, all).utf8) + body)]
    }

    public static func json(_ status: Int, _ text: String, headers: [String: String] = [:]) -> [StubAction] {
        full(status, Data(text.utf8), headers: headers)
    }

    /// A chunked response; each piece is written (and flushed) separately, with `pause`
    /// milliseconds between pieces, so the client sees them in separate reads.
    public static func chunked(
        _ status: Int, _ pieces: [Data], contentType: String = "application/json", pause: Int = 5
    ) -> [StubAction] {
        var actions: [StubAction] = [
            .write(Data(head(status, ["Content-Type": contentType, "Transfer-Encoding": "chunked"]).utf8))
        ]
        for piece in pieces where !piece.isEmpty {
            actions.append(
                .write(Data(String(piece.count, radix: 16).utf8) + Data("\r\n".utf8) + piece + Data("\r\n".utf8)))
            actions.append(.sleep(milliseconds: pause))
        }
        actions.append(.write(Data("0\r\n\r\n".utf8)))
        return actions
    }

    /// The answers of a Docker 20.10 engine to ping, version and info; `nil` for anything else.
    public static func dockerd(_ request: StubRequest) -> [StubAction]? {
        switch request.path {
        case "/_ping": ping
        case "/version", "/v1.41/version":
            json(200, #"{"Version":"20.10.24","ApiVersion":"1.41","MinAPIVersion":"1.12","Os":"linux","Arch":"amd64"}"#)
        case "/v1.41/info": json(200, #"{"Driver":"overlay2","DockerRootDir":"/nonexistent-root"}"#)
        default: nil
        }
    }

    public static let ping: [StubAction] = full(
        200, Data("OK".utf8), contentType: "text/plain", headers: ["API-Version": "1.41", "OSType": "linux"])
}

/// One multiplexed-stream frame: `[stream, 0, 0, 0, size32be] + payload`.
public func frame(_ stream: UInt8, _ text: String) -> Data {
    let payload = Data(text.utf8)
    let size = UInt32(payload.count)
    return Data([
        stream, 0, 0, 0, UInt8(size >> 24), UInt8(size >> 16 & 0xff), UInt8(size >> 8 & 0xff), UInt8(size & 0xff),
    ])
        + payload
}
