import CCurl
import Foundation
import Platform
import Synchronization

/// A hijacked engine connection (`Upgrade: tcp`), as `POST /exec/{id}/start` with stdin
/// needs: after the HTTP answer the connection carries the process's stdin one way and its
/// multiplexed output the other. libcurl connects it (`CURLOPT_CONNECT_ONLY`), so it works over
/// every transport the client speaks (unix socket, TCP, TLS, ssh); devenv then sends and
/// receives the bytes itself with `curl_easy_send`/`curl_easy_recv`.
public final class HijackedConnection: @unchecked Sendable {
    private let transport: CurlTransport
    private let handle: UnsafeMutableRawPointer
    private let socket: Int32
    /// Bytes read past the answer's head: the start of the stream.
    private var pending = Data()
    /// curl handles are not safe for concurrent use: one call at a time, never while waiting.
    private let io = Mutex(())

    init(transport: CurlTransport, method: String, path: String, body: Data) throws {
        self.transport = transport
        guard let handle = curl_easy_init() else {
            throw DockerEngineError(.transport, "libcurl could not create a handle")
        }
        self.handle = handle
        transport.configureConnection(handle, path: path)
        devenv_curl_setopt_long(handle, CURLOPT_CONNECT_ONLY, 1)
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let code = errorBuffer.withUnsafeMutableBufferPointer { buffer -> CURLcode in
            devenv_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, buffer.baseAddress)
            defer { devenv_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, nil) }
            return curl_easy_perform(handle)
        }
        guard code == CURLE_OK else {
            let buffered = errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            curl_easy_cleanup(handle)
            throw transport.connectionError(
                code, detail: buffered.isEmpty ? String(cString: curl_easy_strerror(code)) : buffered,
                during: HTTPRequest(method: method, path: path))
        }
        var active: curl_socket_t = -1
        devenv_curl_getinfo_socket(handle, CURLINFO_ACTIVESOCKET, &active)
        socket = Int32(active)

        let host =
            switch transport.connection.endpoint {
            case .tcp(let name, let port): "\(EngineEndpoint.bracketed(name)):\(port)"
            default: "localhost"
            }
        var request = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nContent-Type: application/json\r\n"
        request += "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: \(body.count)\r\n\r\n"
        do {
            try write(Data(request.utf8) + body)
            try readHead(method: method, path: path)
        } catch {
            curl_easy_cleanup(handle)
            throw error
        }
    }

    deinit { curl_easy_cleanup(handle) }

    private func readHead(method: String, path: String) throws {
        var head = Data()
        while true {
            guard let chunk = try receive() else {
                throw DockerEngineError(
                    .transport, "docker engine closed the connection before answering \(method) \(path)")
            }
            head.append(chunk)
            if let end = head.range(of: Data("\r\n\r\n".utf8)) {
                pending = head[end.upperBound...]
                head = head[..<end.lowerBound]
                break
            }
            if head.count > 64 * 1024 {
                throw DockerEngineError(.malformedResponse, "docker engine sent an oversized answer head")
            }
        }
        let statusLine = String(decoding: head.prefix { $0 != UInt8(ascii: "\r") }, as: UTF8.self)
        let status = statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        guard status == 101 || status == 200 else {
            let bodyText = pending.isEmpty ? ((try? receive()) ?? nil) ?? Data() : pending
            throw DockerEngineError.api(
                status: status, body: bodyText, request: HTTPRequest(method: method, path: path))
        }
    }

    /// Writes all of `data` to the process's stdin.
    public func write(_ data: Data) throws {
        var offset = 0
        while offset < data.count {
            var sent = 0
            let code = io.withLock { _ in
                data.withUnsafeBytes { raw in
                    curl_easy_send(handle, raw.baseAddress! + offset, raw.count - offset, &sent)
                }
            }
            switch code {
            case CURLE_OK: offset += sent
            case CURLE_AGAIN: _ = Sockets.waitWritable(socket, milliseconds: 1000)
            default: throw DockerEngineError(.transport, "the exec connection closed while sending input")
            }
        }
    }

    /// Signals the end of stdin (the engine closes the process's stdin); output keeps coming.
    public func closeInput() {
        io.withLock { _ in Sockets.shutdownWrite(socket) }
    }

    /// The next chunk of output, or `nil` at the end.
    public func readChunk() throws -> Data? {
        if !pending.isEmpty {
            defer { pending = Data() }
            return pending
        }
        return try receive()
    }

    /// Waits for bytes; nil at the end of the stream.
    private func receive() throws -> Data? {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            var count = 0
            let code = io.withLock { _ in curl_easy_recv(handle, &buffer, buffer.count, &count) }
            switch code {
            case CURLE_OK: return count == 0 ? nil : Data(buffer[0..<count])
            case CURLE_AGAIN: _ = Sockets.waitReadable(socket, milliseconds: 1000)
            case CURLE_UNSUPPORTED_PROTOCOL, CURLE_RECV_ERROR:
                // The peer closed the connection without a TLS close_notify: the end of output.
                return nil
            default:
                throw DockerEngineError(
                    .transport, "reading exec output failed: \(String(cString: curl_easy_strerror(code)))")
            }
        }
    }
}

extension DockerClient {
    /// Tells the engine the exec's terminal size (after its start, and on every window change).
    public func resizeExec(_ id: String, rows: Int, columns: Int) async throws {
        try await call(
            "POST", "/exec/\(pathComponent(id))/resize", query: ["h": String(rows), "w": String(columns)])
    }

    /// Starts an exec created with `AttachStdin` on a hijacked connection: the caller writes
    /// stdin and reads the output (multiplexed, or raw with `tty`) from the returned connection.
    /// `size` (rows, columns) is the terminal's from the first byte on API 1.42 and later; older
    /// engines start at 0×0 and need a `resizeExec` after the start.
    public func startExecAttached(
        _ id: String, tty: Bool = false, size: (rows: Int, columns: Int)? = nil
    ) async throws -> HijackedConnection {
        let path = try await versionedPath("/exec/\(pathComponent(id))/start")
        var json = #"{"Detach":false,"Tty":\#(tty)"#
        if tty, let size, Self.compareVersions(try await apiVersion(), "1.42") >= 0 {
            json += #","ConsoleSize":[\#(size.rows),\#(size.columns)]"#
        }
        return try await hijack(path, body: Data((json + "}").utf8))
    }

    /// A POST whose connection the engine takes over for raw streams both ways (its own thread:
    /// the handshake blocks).
    func hijack(_ path: String, body: Data) async throws -> HijackedConnection {
        guard let transport = transport as? CurlTransport else {
            throw DockerEngineError(.transport, "a stream with input needs the libcurl transport")
        }
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(
                    with: Result {
                        try HijackedConnection(transport: transport, method: "POST", path: path, body: body)
                    })
            }
        }
    }
}

extension DockerClient {
    /// Attaches to a created container's stdin, stdout and stderr on a hijacked connection,
    /// before its start, so nothing it prints or reads is missed (`devenv run`).
    public func attachContainerHijacked(_ id: String) async throws -> HijackedConnection {
        let path = try await versionedPath(
            "/containers/\(pathComponent(id))/attach",
            query: ["stream": "1", "stdin": "1", "stdout": "1", "stderr": "1"])
        return try await hijack(path, body: Data())
    }

    /// Tells the engine a container's terminal size.
    public func resizeContainer(_ id: String, rows: Int, columns: Int) async throws {
        try await call(
            "POST", "/containers/\(pathComponent(id))/resize", query: ["h": String(rows), "w": String(columns)])
    }
}
