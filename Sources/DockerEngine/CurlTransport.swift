import CCurl
import Foundation
import Synchronization

/// HTTP/1.1 to the engine with libcurl: over a unix socket, TCP, TLS, or the pipes of
/// `ssh … docker system dial-stdio`.
///
/// `curl_easy_perform` blocks, so every transfer runs on a thread of its own, never on
/// Swift's cooperative pool; its body reaches the caller through an `AsyncThrowingStream`.
/// Easy handles are kept in a small pool so consecutive requests reuse the connection.
public final class CurlTransport: Transport {
    public let connection: EngineConnection
    let connectTimeout: TimeInterval
    /// For ssh:// engines: the relay that turns each connection into an ssh dial-stdio.
    let relay: SSHRelay?
    /// Why the relay could not be made, for the error of every request.
    let relayFailure: String?
    private let pool = Mutex<[CurlHandle]>([])
    private static let maxIdleHandles = 8

    public init(connection: EngineConnection, connectTimeout: TimeInterval = 5) {
        _ = curlGlobalInit
        self.connection = connection
        self.connectTimeout = connectTimeout
        if case .ssh(let user, let host, let port) = connection.endpoint {
            do {
                relay = try SSHRelay(user: user, host: host, port: port, command: connection.sshCommand)
                relayFailure = nil
            } catch {
                relay = nil
                relayFailure = "\(error)"
            }
        } else {
            relay = nil
            relayFailure = nil
        }
    }

    public convenience init(endpoint: EngineEndpoint, connectTimeout: TimeInterval = 5) {
        self.init(connection: EngineConnection(endpoint: endpoint), connectTimeout: connectTimeout)
    }

    deinit {
        for handle in pool.withLock({ $0 }) { curl_easy_cleanup(handle.raw) }
    }

    /// libcurl's version, for `devenv doctor`.
    public static var libraryVersion: String { String(cString: devenv_curl_version_string()) }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let response = try await stream(request)
        var body = Data()
        for try await chunk in response.body { body.append(chunk) }
        return HTTPResponse(status: response.status, headers: response.headers, body: body)
    }

    public func stream(_ request: HTTPRequest) async throws -> HTTPStreamResponse {
        try Task.checkCancellation()
        let transfer = CurlTransfer(request: request, transport: self)
        let handle = takeHandle()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                transfer.headContinuation = continuation
                Thread.detachNewThread { [self] in
                    let failure = transfer.perform(handle: handle.raw)
                    // Back in the pool before the caller sees the end, so its next request reuses the connection.
                    giveBack(handle, reusable: failure == nil)
                    transfer.finish(with: failure)
                }
            }
        } onCancel: {
            transfer.cancel()
        }
    }

    func takeHandle() -> CurlHandle {
        if let handle = pool.withLock({ $0.popLast() }) { return handle }
        return CurlHandle(raw: curl_easy_init())
    }

    func giveBack(_ handle: CurlHandle, reusable: Bool) {
        let kept =
            reusable
            && pool.withLock { idle in
                guard idle.count < Self.maxIdleHandles else { return false }
                idle.append(handle)
                return true
            }
        if !kept { curl_easy_cleanup(handle.raw) }
    }
}

private let curlGlobalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

/// An easy handle; only ever used by one transfer thread at a time.
struct CurlHandle: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer?
}

/// The state of one transfer, shared between the perform thread (callbacks) and the caller.
final class CurlTransfer: @unchecked Sendable {
    let request: HTTPRequest
    let transport: CurlTransport
    var endpoint: EngineEndpoint { transport.connection.endpoint }

    private struct State {
        var cancelled = false
        var status = 0
        var headers: [String: String] = [:]
        var headDelivered = false
    }
    private let state = Mutex(State())

    // Set before the thread starts; touched afterwards only by the perform thread.
    var headContinuation: CheckedContinuation<HTTPStreamResponse, any Error>?
    private let body: AsyncThrowingStream<Data, any Error>
    private let bodyContinuation: AsyncThrowingStream<Data, any Error>.Continuation
    private var uploadOffset = 0
    /// Why the upload source stopped (perform thread only).
    private var uploadFailure: DockerEngineError?

    init(request: HTTPRequest, transport: CurlTransport) {
        self.request = request
        self.transport = transport
        (body, bodyContinuation) = AsyncThrowingStream.makeStream(of: Data.self)
        bodyContinuation.onTermination = { [weak self] termination in
            // The consumer stopped reading: abort the transfer (logs --follow, Ctrl-C).
            if case .cancelled = termination { self?.cancel() }
        }
    }

    var isCancelled: Bool { state.withLock { $0.cancelled } }

    func cancel() {
        state.withLock { $0.cancelled = true }
    }

    /// Runs the transfer to the end on the current (dedicated) thread; returns its failure,
    /// if any. The caller then ends the body stream with `finish(with:)`.
    func perform(handle: UnsafeMutableRawPointer?) -> DockerEngineError? {
        guard let handle else { return DockerEngineError(.transport, "libcurl could not create a handle") }
        curl_easy_reset(handle)
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }

        transport.configureConnection(handle, path: request.path)
        if let timeout = request.timeout {
            devenv_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(timeout * 1000))
        }

        switch request.method {
        case "GET": devenv_curl_setopt_long(handle, CURLOPT_HTTPGET, 1)
        case "HEAD": devenv_curl_setopt_long(handle, CURLOPT_NOBODY, 1)
        default: break
        }
        if let size = request.upload?.length ?? request.body?.count {
            devenv_curl_setopt_long(handle, CURLOPT_POST, 1)
            devenv_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(size))
            devenv_curl_setopt_data_cb(handle, CURLOPT_READFUNCTION, curlRead)
            devenv_curl_setopt_pointer(handle, CURLOPT_READDATA, Unmanaged.passUnretained(self).toOpaque())
        } else if request.method == "POST" || request.method == "PUT" {
            // An empty body: without POSTFIELDS libcurl would read the body from stdin.
            devenv_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, 0)
            devenv_curl_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, "")
        }
        if !["GET", "POST", "HEAD"].contains(request.method) {
            devenv_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
        }

        // No "Expect: 100-continue" round trip for large bodies (build contexts).
        headerList = curl_slist_append(headerList, "Expect:")
        for (name, value) in request.headers.sorted(by: { $0.key < $1.key }) {
            headerList = curl_slist_append(headerList, "\(name): \(value)")
        }
        devenv_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)

        let user = Unmanaged.passUnretained(self).toOpaque()
        devenv_curl_setopt_data_cb(handle, CURLOPT_HEADERFUNCTION, curlHeader)
        devenv_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, user)
        devenv_curl_setopt_data_cb(handle, CURLOPT_WRITEFUNCTION, curlWrite)
        devenv_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, user)
        devenv_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0)
        devenv_curl_setopt_xferinfo_cb(handle, CURLOPT_XFERINFOFUNCTION, curlProgress)
        devenv_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, user)

        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let code = errorBuffer.withUnsafeMutableBufferPointer { buffer -> CURLcode in
            devenv_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, buffer.baseAddress)
            let code = curl_easy_perform(handle)
            devenv_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, nil)
            return code
        }
        if code == CURLE_OK {
            deliverHead()  // a body-less answer (204) still has a head
            return nil
        }
        if let uploadFailure { return uploadFailure }
        let buffered = errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let detail = buffered.isEmpty ? String(cString: curl_easy_strerror(code)) : buffered
        if isCancelled { return DockerEngineError(.cancelled, "cancelled", underlying: detail) }
        return transport.connectionError(code, detail: detail, during: request)
    }

    // MARK: callbacks (perform thread)

    fileprivate func receiveHeader(_ line: String) {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("HTTP/") {
            // A new status line starts a new header block (after a 1xx).
            let parts = trimmed.split(separator: " ", maxSplits: 2)
            let status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            state.withLock {
                $0.status = status
                $0.headers = [:]
            }
        } else if trimmed.isEmpty {
            let status = state.withLock { $0.status }
            if status >= 200 { deliverHead() }
        } else if let colon = trimmed.firstIndex(of: ":") {
            let name = String(trimmed[..<colon])
            let value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            state.withLock { $0.headers[name] = value }
        }
    }

    fileprivate func receiveBody(_ data: Data) -> Bool {
        if isCancelled { return false }
        deliverHead()
        bodyContinuation.yield(data)
        return true
    }

    fileprivate func readUpload(into buffer: UnsafeMutablePointer<CChar>, capacity: Int) -> Int {
        if let upload = request.upload {
            do {
                return try upload.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: capacity))
            } catch {
                uploadFailure =
                    error as? DockerEngineError
                    ?? DockerEngineError(.transport, "cannot send the request body: \(error)")
                return Int(CURL_READFUNC_ABORT)
            }
        }
        guard let body = request.body else { return 0 }
        let count = min(capacity, body.count - uploadOffset)
        guard count > 0 else { return 0 }
        body.withUnsafeBytes { raw in
            let start = raw.baseAddress!.advanced(by: uploadOffset)
            UnsafeMutableRawPointer(buffer).copyMemory(from: start, byteCount: count)
        }
        uploadOffset += count
        return count
    }

    private func deliverHead() {
        let head: (Int, [String: String])? = state.withLock {
            guard !$0.headDelivered else { return nil }
            $0.headDelivered = true
            return ($0.status, $0.headers)
        }
        guard let (status, headers) = head, let continuation = headContinuation else { return }
        headContinuation = nil
        continuation.resume(returning: HTTPStreamResponse(status: status, headers: headers, body: body))
    }

    func finish(with error: DockerEngineError?) {
        if let continuation = headContinuation {
            headContinuation = nil
            state.withLock { $0.headDelivered = true }
            continuation.resume(
                throwing: error ?? DockerEngineError(.malformedResponse, "docker engine sent no response"))
        }
        bodyContinuation.finish(throwing: error)
    }
}

extension HTTPRequest {
    var pathWithoutQuery: String { String(path.split(separator: "?", maxSplits: 1).first ?? "") }
}

private func transfer(_ user: UnsafeMutableRawPointer?) -> CurlTransfer {
    Unmanaged<CurlTransfer>.fromOpaque(user!).takeUnretainedValue()
}

private let curlHeader: devenv_curl_data_cb = { pointer, size, count, user in
    let length = size * count
    guard let pointer else { return length }
    let line = String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
    transfer(user).receiveHeader(line)
    return length
}

private let curlWrite: devenv_curl_data_cb = { pointer, size, count, user in
    let length = size * count
    guard let pointer else { return length }
    let data = Data(bytes: pointer, count: length)
    return transfer(user).receiveBody(data) ? length : 0
}

private let curlRead: devenv_curl_data_cb = { pointer, size, count, user in
    guard let pointer else { return 0 }
    return transfer(user).readUpload(into: pointer, capacity: size * count)
}

private let curlProgress: devenv_curl_xferinfo_cb = { user, _, _, _, _ in
    transfer(user).isCancelled ? 1 : 0
}
