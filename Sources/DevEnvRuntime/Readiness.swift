import DevEnvModel
import Foundation
import Platform
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
        guard let connection = Sockets.connect(host: host, port: port, timeout: timeout),
            connection.send(Data(request.utf8)), let reply = connection.receive(limit: 256), !reply.isEmpty
        else { return nil }
        return String(decoding: reply, as: UTF8.self)
    }
}
