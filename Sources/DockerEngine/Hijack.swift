import Foundation

/// A hijacked engine connection (`Upgrade: tcp`), as `POST /exec/{id}/start` with stdin
/// needs: after the HTTP answer the socket carries the process's stdin one way and its
/// multiplexed output the other. libcurl's easy interface has no such mode, so this is a
/// plain socket; it is used only for exec with stdin.
public final class HijackedConnection: @unchecked Sendable {
    private let fd: Int32

    /// Connects, sends the request, and reads the answer's head; the stream starts after it.
    public init(endpoint: EngineEndpoint, method: String, path: String, body: Data) throws {
        fd = try Self.connect(endpoint)
        let host = if case .tcp(let name, let port) = endpoint { "\(name):\(port)" } else { "localhost" }
        var request = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nContent-Type: application/json\r\n"
        request += "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: \(body.count)\r\n\r\n"
        try write(Data(request.utf8) + body)
        // Read the head byte by byte: what follows it belongs to the stream.
        var head = Data()
        while !head.suffix(4).elementsEqual("\r\n\r\n".utf8) {
            var byte: UInt8 = 0
            guard read(fd, &byte, 1) == 1 else {
                close(fd)
                throw DockerEngineError(
                    .transport, "docker engine closed the connection before answering \(method) \(path)")
            }
            head.append(byte)
            if head.count > 64 * 1024 {
                close(fd)
                throw DockerEngineError(.malformedResponse, "docker engine sent an oversized answer head")
            }
        }
        let statusLine = String(decoding: head.prefix { $0 != UInt8(ascii: "\r") }, as: UTF8.self)
        let status = statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        guard status == 101 || status == 200 else {
            var rest = [UInt8](repeating: 0, count: 4096)
            let count = Glibc.read(fd, &rest, rest.count)
            close(fd)
            let bodyText = count > 0 ? Data(rest[0..<count]) : Data()
            throw DockerEngineError.api(
                status: status, body: bodyText, request: HTTPRequest(method: method, path: path))
        }
    }

    deinit { close(fd) }

    /// Writes all of `data` to the process's stdin.
    public func write(_ data: Data) throws {
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let sent = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                guard sent > 0 else {
                    throw DockerEngineError(.transport, "the exec connection closed while sending input")
                }
                offset += sent
            }
        }
    }

    /// Signals the end of stdin (the engine closes the process's stdin); output keeps coming.
    public func closeInput() {
        shutdown(fd, Int32(SHUT_WR))
    }

    /// The next chunk of output, or `nil` at the end.
    public func readChunk() throws -> Data? {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = Glibc.read(fd, &buffer, buffer.count)
        if count < 0 {
            throw DockerEngineError(.transport, "reading exec output failed: \(String(cString: strerror(errno)))")
        }
        return count == 0 ? nil : Data(buffer[0..<count])
    }

    static func connect(_ endpoint: EngineEndpoint) throws -> Int32 {
        switch endpoint {
        case .unix(let path):
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                raw.copyBytes(from: Array(path.utf8.prefix(raw.count - 1)) + [0])
            }
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            guard fd >= 0, result == 0 else {
                if fd >= 0 { close(fd) }
                throw DockerEngineError(.unreachable, "cannot reach docker engine at \(endpoint)")
            }
            return fd
        case .tcp(let host, let port):
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var info: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, String(port), &hints, &info) == 0, let first = info else {
                throw DockerEngineError(.unreachable, "cannot reach docker engine at \(endpoint)")
            }
            defer { freeaddrinfo(info) }
            let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
            guard fd >= 0, Glibc.connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
                if fd >= 0 { close(fd) }
                throw DockerEngineError(.unreachable, "cannot reach docker engine at \(endpoint)")
            }
            return fd
        }
    }
}

extension DockerClient {
    /// Starts an exec created with `AttachStdin` on a hijacked connection: the caller writes
    /// stdin and reads the multiplexed output from the returned connection.
    public func startExecAttached(_ id: String) async throws -> HijackedConnection {
        let path = try await versionedPath("/exec/\(pathComponent(id))/start")
        let body = Data(#"{"Detach":false,"Tty":false}"#.utf8)
        let endpoint = self.endpoint
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(
                    with: Result { try HijackedConnection(endpoint: endpoint, method: "POST", path: path, body: body) })
            }
        }
    }
}
