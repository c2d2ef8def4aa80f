import Foundation

/// One HTTP request to the engine. `path` includes the query string.
public struct HTTPRequest: Sendable {
    public var method: String
    public var path: String
    public var headers: [String: String]
    public var body: Data?
    /// Whole-request timeout in seconds; `nil` for streams that may run forever (logs --follow).
    public var timeout: TimeInterval?

    public init(
        method: String, path: String, headers: [String: String] = [:], body: Data? = nil,
        timeout: TimeInterval? = 60
    ) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// A fully read response.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String], body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Header lookup, case-insensitive as HTTP says.
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.key.lowercased() == lower }?.value
    }
}

/// A response whose body arrives as chunks, in order, as the engine writes them.
public struct HTTPStreamResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: AsyncThrowingStream<Data, any Error>

    public init(status: Int, headers: [String: String], body: AsyncThrowingStream<Data, any Error>) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Reads the rest of the body (for error responses of streaming endpoints).
    public func collect(limit: Int = 1 << 20) async throws -> Data {
        var data = Data()
        for try await chunk in body {
            data.append(chunk.prefix(max(0, limit - data.count)))
        }
        return data
    }
}

/// Moves bytes between devenv and an engine endpoint. Production: `CurlTransport`;
/// unit tests point it at an in-process stub server.
public protocol Transport: Sendable {
    /// The endpoint as the user named it (`unix:///var/run/docker.sock`, `tcp://host:2375`).
    var endpoint: EngineEndpoint { get }
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
    func stream(_ request: HTTPRequest) async throws -> HTTPStreamResponse
}

/// Where the engine listens, parsed from `DOCKER_HOST`.
public enum EngineEndpoint: Sendable, Equatable, CustomStringConvertible {
    case unix(path: String)
    case tcp(host: String, port: Int)

    public static let defaultSocket = "/var/run/docker.sock"

    /// Parses `unix:///path`, `tcp://host:port`, `http://host:port`; `nil`/empty means the default socket.
    public init(dockerHost: String?) throws {
        guard let value = dockerHost?.trimmingCharacters(in: .whitespaces), !value.isEmpty else {
            self = .unix(path: Self.defaultSocket)
            return
        }
        if value.hasPrefix("unix://") {
            let path = String(value.dropFirst("unix://".count))
            guard path.hasPrefix("/") else {
                throw DockerEngineError(
                    .invalidEndpoint,
                    "DOCKER_HOST \(value) must name an absolute socket path, e.g. unix:///var/run/docker.sock")
            }
            self = .unix(path: path)
            return
        }
        for scheme in ["tcp://", "http://"] where value.hasPrefix(scheme) {
            let rest = value.dropFirst(scheme.count).split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
            let parts = rest.split(separator: ":")
            guard parts.count == 2, let port = Int(parts[1]), (1...65535).contains(port), !parts[0].isEmpty else {
                throw DockerEngineError(.invalidEndpoint, "DOCKER_HOST \(value) must be tcp://HOST:PORT")
            }
            self = .tcp(host: String(parts[0]), port: port)
            return
        }
        throw DockerEngineError(
            .invalidEndpoint,
            "DOCKER_HOST \(value) is neither unix:// nor tcp:// (ssh:// and npipe:// are not supported)")
    }

    public var description: String {
        switch self {
        case .unix(let path): "unix://\(path)"
        case .tcp(let host, let port): "tcp://\(host):\(port)"
        }
    }
}
