import Foundation
import Synchronization

/// Typed Docker Engine API client. Versioned paths use the API version negotiated on the
/// first call (or `DOCKER_API_VERSION`).
public final class DockerClient: Sendable {
    /// The newest API version whose semantics this client is written against.
    public static let maxAPIVersion = "1.45"
    /// The oldest it accepts (Docker 20.10 / Podman 4 speak 1.41).
    public static let minAPIVersion = "1.24"

    public let transport: any Transport
    private let pinnedVersion: String?
    private let negotiated = Mutex<String?>(nil)
    let encoder = JSONEncoder()
    let decoder = JSONDecoder()
    /// Timeout for ordinary (non-streaming) calls.
    public let requestTimeout: TimeInterval

    public init(transport: any Transport, apiVersion: String? = nil, requestTimeout: TimeInterval = 60) {
        self.transport = transport
        self.pinnedVersion = apiVersion.flatMap { $0.isEmpty ? nil : $0 }
        self.requestTimeout = requestTimeout
        encoder.outputFormatting = [.sortedKeys]
    }

    /// A client for `DOCKER_HOST` / `DOCKER_API_VERSION` from `environment`.
    /// `DEVENV_ENGINE_TIMEOUT` (seconds) bounds each ordinary call.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> DockerClient {
        let endpoint = try EngineEndpoint(dockerHost: environment["DOCKER_HOST"])
        let timeout = environment["DEVENV_ENGINE_TIMEOUT"].flatMap(TimeInterval.init) ?? 60
        return DockerClient(
            transport: CurlTransport(endpoint: endpoint), apiVersion: environment["DOCKER_API_VERSION"],
            requestTimeout: timeout)
    }

    public var endpoint: EngineEndpoint { transport.endpoint }

    // MARK: version negotiation

    /// The API version in use: `DOCKER_API_VERSION` if given, else the lower of the engine's
    /// and `maxAPIVersion`, found with `/_ping` (falling back to `/version`).
    public func apiVersion() async throws -> String {
        if let pinnedVersion { return pinnedVersion }
        if let known = negotiated.withLock({ $0 }) { return known }
        var serverVersion = try await ping().apiVersion
        if serverVersion == nil {
            let response = try await transport.send(
                HTTPRequest(method: "GET", path: "/version", timeout: requestTimeout))
            try check(response, HTTPRequest(method: "GET", path: "/version"))
            serverVersion = try decode(SystemVersion.self, response.body).ApiVersion
        }
        let chosen = Self.negotiate(server: serverVersion ?? Self.minAPIVersion)
        negotiated.withLock { $0 = chosen }
        return chosen
    }

    /// The lower of the server's version and ours.
    static func negotiate(server: String) -> String {
        compareVersions(server, maxAPIVersion) < 0 ? server : maxAPIVersion
    }

    /// Compares dotted API versions numerically: -1, 0 or 1.
    public static func compareVersions(_ a: String, _ b: String) -> Int {
        let left = a.split(separator: ".").map { Int($0) ?? 0 }
        let right = b.split(separator: ".").map { Int($0) ?? 0 }
        for index in 0..<max(left.count, right.count) {
            let l = index < left.count ? left[index] : 0
            let r = index < right.count ? right[index] : 0
            if l != r { return l < r ? -1 : 1 }
        }
        return 0
    }

    // MARK: request plumbing

    func versionedPath(_ path: String, query: [String: String?] = [:]) async throws -> String {
        let version = try await apiVersion()
        return "/v\(version)\(path)\(Self.queryString(query))"
    }

    static func queryString(_ query: [String: String?]) -> String {
        queryString(query.compactMap { key, value in value.map { (key, $0) } }.sorted { $0.0 < $1.0 })
    }

    /// Ordered pairs, for parameters that repeat (`t=a&t=b`).
    static func queryString(_ items: [(String, String)]) -> String {
        guard !items.isEmpty else { return "" }
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+?#/:;,")
        return "?"
            + items.map { key, value in
                "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)"
            }.joined(separator: "&")
    }

    /// `{"label": ["k=v", …]}` JSON for list filters.
    static func labelFilter(_ labels: [String: String?]) -> String? {
        guard !labels.isEmpty else { return nil }
        let values = labels.map { key, value in value.map { "\(key)=\($0)" } ?? key }.sorted()
        let data = try! JSONSerialization.data(withJSONObject: ["label": values], options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    func check(_ response: HTTPResponse, _ request: HTTPRequest) throws {
        guard (200..<300).contains(response.status) else {
            throw DockerEngineError.api(status: response.status, body: response.body, request: request)
        }
    }

    func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
        do {
            return try decoder.decode(type, from: data)
        } catch {
            throw DockerEngineError(
                .malformedResponse, "docker engine sent an answer devenv cannot read as \(type)",
                underlying: String(describing: error))
        }
    }

    /// A JSON call: versioned path, optional JSON body, status checked.
    @discardableResult
    func call(
        _ method: String, _ path: String, query: [String: String?] = [:], json: (some Encodable)? = EmptyObject?.none,
        timeout: TimeInterval? = nil
    ) async throws -> HTTPResponse {
        var request = HTTPRequest(
            method: method, path: try await versionedPath(path, query: query), timeout: timeout ?? requestTimeout)
        if let json {
            request.body = try encoder.encode(json)
            request.headers["Content-Type"] = "application/json"
        }
        let response = try await transport.send(request)
        try check(response, request)
        return response
    }

    func get<T: Decodable>(_ type: T.Type, _ path: String, query: [String: String?] = [:]) async throws -> T {
        try decode(type, try await call("GET", path, query: query).body)
    }

    /// A streaming call: the status is checked before the body is handed over.
    func openStream(
        _ method: String, _ path: String, query: [String: String?] = [:], body: Data? = nil,
        headers: [String: String] = [:], timeout: TimeInterval? = nil
    ) async throws -> HTTPStreamResponse {
        let request = HTTPRequest(
            method: method, path: try await versionedPath(path, query: query), headers: headers, body: body,
            timeout: timeout)
        let response = try await transport.stream(request)
        guard (200..<300).contains(response.status) else {
            let body = try await response.collect()
            throw DockerEngineError.api(status: response.status, body: body, request: request)
        }
        return response
    }
}

/// What `/_ping` says.
public struct PingResult: Sendable {
    public var apiVersion: String?
    public var osType: String?
    public var builderVersion: String?
}

// MARK: system

extension DockerClient {
    /// `GET /_ping` (unversioned): reachability and the engine's API version header.
    public func ping() async throws -> PingResult {
        let request = HTTPRequest(method: "GET", path: "/_ping", timeout: min(requestTimeout, 10))
        let response = try await transport.send(request)
        try check(response, request)
        return PingResult(
            apiVersion: response.header("API-Version"), osType: response.header("OSType"),
            builderVersion: response.header("Builder-Version"))
    }

    public func version() async throws -> SystemVersion { try await get(SystemVersion.self, "/version") }
    public func info() async throws -> SystemInfo { try await get(SystemInfo.self, "/info") }
}
