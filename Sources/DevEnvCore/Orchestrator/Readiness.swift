import Foundation
import Postgres

/// Runs blocking work (libpq, sockets) on a GCD thread, never on Swift's cooperative pool.
public func offCooperativePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}

/// Native readiness checks for services devenv knows, so waiting does not depend on the
/// engine's healthcheck interval. Each check runs once, off the cooperative pool.
public enum ReadinessProbe {
    /// PostgreSQL accepts connections at host:port (`PQping`, no login).
    public static func postgres(host: String, port: Int) async -> Bool {
        (try? await offCooperativePool {
            PostgresPing.check(parameters: [
                "host": host, "port": String(port), "connect_timeout": "1", "dbname": "postgres",
            ]) == .ok
        }) ?? false
    }

    /// Redis answers `PING` at host:port: `+PONG`, or `-NOAUTH` (up, with a password), but
    /// not `-LOADING` (still reading its data).
    public static func redis(host: String, port: Int) async -> Bool {
        (try? await offCooperativePool {
            guard let reply = respExchange(host: host, port: port, request: "PING\r\n", timeout: 1) else {
                return false
            }
            return reply.hasPrefix("+PONG") || reply.hasPrefix("-NOAUTH") || reply.hasPrefix("-WRONGPASS")
        }) ?? false
    }

    /// One request/reply over TCP with a deadline; `nil` when nothing usable came back.
    static func respExchange(host: String, port: Int, request: String, timeout: TimeInterval) -> String? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var info: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &info) == 0, let first = info else { return nil }
        defer { freeaddrinfo(info) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var limit = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - floor(timeout)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else { return nil }
        let bytes = Array(request.utf8)
        guard send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else { return nil }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }
}
