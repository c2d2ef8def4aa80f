import Dispatch
import Foundation

/// Owns one connection and runs every blocking libpq call on its own serial queue, so async
/// callers never block Swift's cooperative pool.
public final class PostgresClient: @unchecked Sendable {
    // Only touched on `queue`.
    private let connection: PostgresConnection
    private let queue: DispatchQueue

    private init(connection: PostgresConnection, queue: DispatchQueue) {
        self.connection = connection
        self.queue = queue
    }

    /// Connects off the cooperative pool.
    public static func connect(url: String) async throws -> PostgresClient {
        try await connect { try PostgresConnection(url: url) }
    }

    public static func connect(parameters: [String: String]) async throws -> PostgresClient {
        try await connect { try PostgresConnection(parameters: parameters) }
    }

    private static func connect(
        _ open: @escaping @Sendable () throws -> PostgresConnection
    ) async throws -> PostgresClient {
        let queue = DispatchQueue(label: "devenv.postgres")
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { PostgresClient(connection: try open(), queue: queue) })
            }
        }
    }

    /// Runs `body` with the connection on the client's queue.
    public func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body(self.connection) })
            }
        }
    }

    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?] = []) async throws -> QueryResult {
        try await withConnection { try $0.execute(sql, parameters) }
    }

    public func close() async {
        _ = try? await withConnection { $0.close() }
    }
}
