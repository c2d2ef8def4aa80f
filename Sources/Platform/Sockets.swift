import Foundation

#if canImport(Glibc)
    import Glibc
    private let streamType = Int32(SOCK_STREAM.rawValue)
    private let datagramType = Int32(SOCK_DGRAM.rawValue)
    private let noSignal = Int32(MSG_NOSIGNAL)
    private func systemSend(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int, _ flags: Int32) -> Int {
        Glibc.send(fd, buffer, count, flags)
    }
    private func systemConnect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
        Glibc.connect(fd, address, length)
    }
#elseif canImport(Darwin)
    import Darwin
    private let streamType = SOCK_STREAM
    private let datagramType = SOCK_DGRAM
    private let noSignal: Int32 = 0  // Darwin: SO_NOSIGPIPE on the socket instead
    private func systemSend(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int, _ flags: Int32) -> Int {
        Darwin.send(fd, buffer, count, flags)
    }
    private func systemConnect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
        Darwin.connect(fd, address, length)
    }
#endif

/// A connected stream socket (TCP or unix), closed when the value is released.
public final class SocketConnection: @unchecked Sendable {
    public let descriptor: Int32

    public init(adopting descriptor: Int32) {
        self.descriptor = descriptor
        Sockets.suppressSIGPIPE(descriptor)
    }

    deinit { close(descriptor) }

    /// Writes all of `bytes`; false when the peer is gone.
    @discardableResult
    public func send(_ bytes: some DataProtocol) -> Bool {
        let data = Array(bytes)
        var offset = 0
        while offset < data.count {
            let sent = data.withUnsafeBytes { raw in
                systemSend(descriptor, raw.baseAddress! + offset, raw.count - offset, noSignal)
            }
            if sent < 0 && errno == EINTR { continue }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    /// Up to `limit` bytes; empty at the end of the stream; nil on an error or a timeout.
    public func receive(limit: Int = 65536) -> Data? {
        var buffer = [UInt8](repeating: 0, count: limit)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return nil }
            return Data(buffer[0..<count])
        }
    }

    /// Ends our direction of the stream; the peer reads EOF, and may still answer.
    public func shutdownWrite() {
        shutdown(descriptor, Int32(SHUT_WR))
    }

    /// Bounds each later send and receive.
    public func setTimeout(_ seconds: TimeInterval) {
        var limit = timeval(tv_sec: Int(seconds), tv_usec: .init((seconds - floor(seconds)) * 1_000_000))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    }
}

/// A listening unix socket, for a relay devenv serves to libcurl (ssh dial-stdio).
public final class UnixListener: @unchecked Sendable {
    public let path: String
    private let descriptor: Int32

    /// Binds `path` (replacing a dead socket file there) and listens.
    public init(path: String) throws {
        let fd = socket(AF_UNIX, streamType, 0)
        guard fd >= 0 else { throw PlatformError("socket failed: \(PlatformError.lastErrno)") }
        Sockets.setCloseOnExec(fd)
        unlink(path)
        let bound = Sockets.withUnixAddress(path) { bind(fd, $0, $1) }
        guard bound == 0, listen(fd, 16) == 0 else {
            let reason = PlatformError.lastErrno
            close(fd)
            throw PlatformError("cannot listen on \(path): \(reason)")
        }
        self.path = path
        descriptor = fd
    }

    private let stopped = NSLock()
    private var isStopped = false

    deinit {
        stop()
        close(descriptor)
    }

    /// Stops listening: a waiting `accept` returns nil, and the socket file goes.
    public func stop() {
        let first = stopped.withLock { () -> Bool in
            defer { isStopped = true }
            return !isStopped
        }
        guard first else { return }
        shutdown(descriptor, Int32(SHUT_RDWR))
        unlink(path)
    }

    /// The next connection (blocking); nil once the listener is closed.
    public func accept() -> Int32? {
        while true {
            let fd = Foundation.accept(descriptor, nil, nil)
            if fd >= 0 {
                Sockets.setCloseOnExec(fd)
                Sockets.suppressSIGPIPE(fd)
                return fd
            }
            if errno == EINTR || errno == ECONNABORTED { continue }
            return nil
        }
    }
}

/// A TCP socket listening on 127.0.0.1 at a port the kernel chose; closed when released.
public final class LoopbackListener: Sendable {
    public let port: Int
    private let descriptor: Int32

    public init() throws {
        let fd = socket(AF_INET, streamType, 0)
        guard fd >= 0 else { throw PlatformError("socket failed: \(PlatformError.lastErrno)") }
        Sockets.setCloseOnExec(fd)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound, listen(fd, 16) == 0 else {
            let reason = PlatformError.lastErrno
            close(fd)
            throw PlatformError("cannot listen on 127.0.0.1: \(reason)")
        }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }

    /// A loopback port nothing listens on right now (the kernel's choice, released at once).
    public static func freePort() throws -> Int { try LoopbackListener().port }
}

/// Socket operations devenv needs, the same on Linux and Darwin.
public enum Sockets {
    /// Connects to a unix socket; nil when nothing listens there.
    public static func connect(unixPath path: String) -> SocketConnection? {
        let fd = socket(AF_UNIX, streamType, 0)
        guard fd >= 0 else { return nil }
        setCloseOnExec(fd)
        guard withUnixAddress(path, { systemConnect(fd, $0, $1) }) == 0 else {
            close(fd)
            return nil
        }
        return SocketConnection(adopting: fd)
    }

    /// Connects over TCP to the first address of `host` that answers within `timeout`.
    public static func connect(host: String, port: Int, timeout: TimeInterval) -> SocketConnection? {
        var hints = addrinfo()
        hints.ai_socktype = streamType
        var info: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &info) == 0 else { return nil }
        defer { freeaddrinfo(info) }
        var next = info
        while let address = next {
            next = address.pointee.ai_next
            let fd = socket(address.pointee.ai_family, address.pointee.ai_socktype, address.pointee.ai_protocol)
            guard fd >= 0 else { continue }
            setCloseOnExec(fd)
            if connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen, timeout: timeout) {
                let connection = SocketConnection(adopting: fd)
                connection.setTimeout(timeout)
                return connection
            }
            close(fd)
        }
        return nil
    }

    /// A non-blocking connect bounded by `timeout`, then back to blocking.
    private static func connect(
        _ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>, _ length: socklen_t, timeout: TimeInterval
    ) -> Bool {
        let flags = fcntl(fd, F_GETFL, 0)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(fd, F_SETFL, flags) }
        if systemConnect(fd, address, length) == 0 { return true }
        guard errno == EINPROGRESS else { return false }
        var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&poller, 1, Int32(max(1, timeout * 1000))) == 1 else { return false }
        var failure: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &size)
        return failure == 0
    }

    /// Calls `body` with `path` as a unix socket address; -1 (without calling it) when the path
    /// does not fit.
    static func withUnixAddress(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let fits = withUnsafeMutableBytes(of: &address.sun_path) { raw -> Bool in
            guard bytes.count < raw.count else { return false }
            raw.copyBytes(from: bytes + [0])
            return true
        }
        guard fits else {
            errno = ENAMETOOLONG
            return -1
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    /// Two connected unix stream sockets, for a child process's stdin/stdout (ssh dial-stdio).
    public static func pair() throws -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, streamType, 0, &fds) == 0 else {
            throw PlatformError("socketpair failed: \(PlatformError.lastErrno)")
        }
        setCloseOnExec(fds[0])
        setCloseOnExec(fds[1])
        suppressSIGPIPE(fds[0])
        suppressSIGPIPE(fds[1])
        return (fds[0], fds[1])
    }

    /// Whether `port` can be bound on `hostIP` right now (TCP or UDP).
    public static func canBind(hostIP: String, port: Int, udp: Bool) -> Bool {
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE
        hints.ai_socktype = udp ? datagramType : streamType
        var info: UnsafeMutablePointer<addrinfo>?
        let host = hostIP.isEmpty ? "0.0.0.0" : hostIP
        guard getaddrinfo(host, String(port), &hints, &info) == 0, let address = info else { return true }
        defer { freeaddrinfo(info) }
        let fd = socket(address.pointee.ai_family, address.pointee.ai_socktype, 0)
        guard fd >= 0 else { return true }
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        return bind(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0
    }

    /// The numeric addresses `host` resolves to (IPv4 first), for binding published ports.
    public static func addresses(of host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = streamType
        var info: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &info) == 0 else { return [] }
        defer { freeaddrinfo(info) }
        var found: [(Bool, String)] = []
        var next = info
        while let address = next {
            next = address.pointee.ai_next
            var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            guard
                getnameinfo(
                    address.pointee.ai_addr, address.pointee.ai_addrlen, &text, socklen_t(text.count), nil, 0,
                    NI_NUMERICHOST) == 0
            else { continue }
            let string = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if !found.contains(where: { $0.1 == string }) {
                found.append((address.pointee.ai_family == AF_INET, string))
            }
        }
        return found.filter(\.0).map(\.1) + found.filter { !$0.0 }.map(\.1)
    }

    /// Waits until `fd` has something to read (or is closed), up to `milliseconds` (-1: forever).
    public static func waitReadable(_ fd: Int32, milliseconds: Int32) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&poller, 1, milliseconds)
            if ready < 0 && errno == EINTR { continue }
            return ready > 0
        }
    }

    /// Waits until `fd` can take more bytes, up to `milliseconds`.
    public static func waitWritable(_ fd: Int32, milliseconds: Int32) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        while true {
            let ready = poll(&poller, 1, milliseconds)
            if ready < 0 && errno == EINTR { continue }
            return ready > 0
        }
    }

    public static func closeDescriptor(_ fd: Int32) {
        close(fd)
    }

    public static func shutdownWrite(_ fd: Int32) {
        shutdown(fd, Int32(SHUT_WR))
    }

    static func setCloseOnExec(_ fd: Int32) {
        _ = fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC)
    }

    static func suppressSIGPIPE(_ fd: Int32) {
        #if canImport(Darwin)
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
    }
}

/// A failure of a platform call, with the system's reason.
public struct PlatformError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    static var lastErrno: String { String(cString: strerror(errno)) }
}
