import Foundation

/// One HTTP request to the engine. `path` includes the query string.
public struct HTTPRequest: Sendable {
    public var method: String
    public var path: String
    public var headers: [String: String]
    public var body: Data?
    /// A body produced while it is sent (a build context), instead of `body`.
    public var upload: (any UploadSource)?
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

/// A request body read while it is sent, so it is never held whole in memory.
public protocol UploadSource: AnyObject, Sendable {
    /// The exact number of bytes `read` produces in all (the Content-Length).
    var length: Int { get }
    /// Fills the start of `buffer` with the next bytes and says how many; 0 at the end.
    /// Called in order on the transfer's one thread; an error aborts the request.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
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
    /// Where the engine listens and how to talk to it (TLS), as discovery found it.
    var connection: EngineConnection { get }
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
    func stream(_ request: HTTPRequest) async throws -> HTTPStreamResponse
}

extension Transport {
    public var endpoint: EngineEndpoint { connection.endpoint }
}

/// Where the engine listens: `DOCKER_HOST`, a context's endpoint, or a well-known socket.
public enum EngineEndpoint: Sendable, Equatable, CustomStringConvertible {
    case unix(path: String)
    case tcp(host: String, port: Int)
    /// `ssh://[user@]host[:port]`: HTTP over `ssh … docker system dial-stdio`.
    case ssh(user: String?, host: String, port: Int?)

    public static let defaultSocket = "/var/run/docker.sock"

    /// Parses `unix:///path`, `tcp://host[:port]`, `http://host:port`, `ssh://[user@]host[:port]`;
    /// `nil`/empty means the default socket. `tls` picks a missing tcp port (2376, else 2375).
    public init(dockerHost: String?, tls: Bool = false) throws {
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
        for scheme in ["tcp://", "http://", "https://"] where value.hasPrefix(scheme) {
            let authority =
                value.dropFirst(scheme.count).split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
            guard let (host, port) = Self.hostAndPort(authority), !host.isEmpty,
                port.map({ (1...65535).contains($0) }) ?? true
            else {
                throw DockerEngineError(.invalidEndpoint, "DOCKER_HOST \(value) must be tcp://HOST:PORT")
            }
            self = .tcp(host: host, port: port ?? (tls || scheme == "https://" ? 2376 : 2375))
            return
        }
        if value.hasPrefix("ssh://") {
            var rest = String(value.dropFirst("ssh://".count))
            if let slash = rest.firstIndex(of: "/") {
                guard rest[slash...] == "/" else {
                    throw DockerEngineError(
                        .invalidEndpoint, "DOCKER_HOST \(value): ssh:// takes no path; use ssh://[USER@]HOST[:PORT]")
                }
                rest = String(rest[..<slash])
            }
            var user: String?
            if let at = rest.lastIndex(of: "@") {
                user = String(rest[..<at])
                rest = String(rest[rest.index(after: at)...])
            }
            guard let (host, port) = Self.hostAndPort(rest), !host.isEmpty, user.map({ !$0.isEmpty }) ?? true,
                port.map({ (1...65535).contains($0) }) ?? true, !host.hasPrefix("-"), !(user ?? "").hasPrefix("-")
            else {
                throw DockerEngineError(.invalidEndpoint, "DOCKER_HOST \(value) must be ssh://[USER@]HOST[:PORT]")
            }
            self = .ssh(user: user, host: host, port: port)
            return
        }
        throw DockerEngineError(
            .invalidEndpoint,
            "DOCKER_HOST \(value) is not unix://, tcp:// or ssh:// (npipe:// is for Windows)")
    }

    /// `host`, `host:port`, `[v6]`, `[v6]:port`; nil when the port is not a number.
    static func hostAndPort(_ authority: String) -> (String, Int?)? {
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            let host = String(authority[authority.index(after: authority.startIndex)..<close])
            let rest = authority[authority.index(after: close)...]
            if rest.isEmpty { return (host, nil) }
            guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()) else { return nil }
            return (host, port)
        }
        let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return (authority, nil)
        case 2:
            guard let port = Int(parts[1]) else { return nil }
            return (String(parts[0]), port)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .unix(let path): "unix://\(path)"
        case .tcp(let host, let port): "tcp://\(Self.bracketed(host)):\(port)"
        case .ssh(let user, let host, let port):
            "ssh://\(user.map { "\($0)@" } ?? "")\(Self.bracketed(host))\(port.map { ":\($0)" } ?? "")"
        }
    }

    static func bracketed(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }

    /// The machine the engine runs on, for tcp and ssh; nil for a unix socket.
    public var remoteHost: String? {
        switch self {
        case .unix: nil
        case .tcp(let host, _), .ssh(_, let host, _): host
        }
    }
}

/// TLS to a tcp engine, as the docker CLI configures it: `DOCKER_TLS_VERIFY` (verify the
/// engine against `ca.pem`), `DOCKER_TLS` (encrypt without verifying), and a client
/// certificate from `DOCKER_CERT_PATH` (`cert.pem`, `key.pem`).
public struct TLSSettings: Sendable, Equatable {
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
    /// Check the engine's certificate and name. Off only when the user asked (`DOCKER_TLS`
    /// without `DOCKER_TLS_VERIFY`, or a context's `SkipTLSVerify`).
    public var verify: Bool
    /// Where the files came from, for messages (`DOCKER_CERT_PATH=/certs/client`).
    public var origin: String

    public init(caFile: String?, certFile: String?, keyFile: String?, verify: Bool, origin: String) {
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.verify = verify
        self.origin = origin
    }
}

/// An engine endpoint and how to reach it.
public struct EngineConnection: Sendable, Equatable, CustomStringConvertible {
    public var endpoint: EngineEndpoint
    public var tls: TLSSettings?
    /// The `ssh` program for ssh:// endpoints (`DEVENV_SSH`, else `ssh` on PATH).
    public var sshCommand: String

    public init(endpoint: EngineEndpoint, tls: TLSSettings? = nil, sshCommand: String = "ssh") {
        self.endpoint = endpoint
        self.tls = tls
        self.sshCommand = sshCommand
    }

    public var description: String { endpoint.description }
}
