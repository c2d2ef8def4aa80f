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
    /// The first ping's answer, kept: it says Docker or Podman at no extra cost.
    private let firstPing = Mutex<PingResult?>(nil)
    let encoder = JSONEncoder()
    let decoder = JSONDecoder()
    /// Timeout for ordinary (non-streaming) calls.
    public let requestTimeout: TimeInterval

    /// How the engine was chosen (`fromEnvironment`); nil for a client made from a transport.
    public let selection: EngineSelection?
    /// Registry logins for pulls and builds; nil sends none.
    public let credentials: RegistryCredentials?

    public init(
        transport: any Transport, apiVersion: String? = nil, requestTimeout: TimeInterval = 60,
        selection: EngineSelection? = nil, credentials: RegistryCredentials? = nil
    ) {
        self.transport = transport
        self.pinnedVersion = apiVersion.flatMap { $0.isEmpty ? nil : $0 }
        self.requestTimeout = requestTimeout
        self.selection = selection
        self.credentials = credentials
        encoder.outputFormatting = [.sortedKeys]
    }

    /// A client for the engine `EngineDiscovery` chooses from `environment` (DOCKER_HOST, docker
    /// contexts, well-known sockets), with `DOCKER_API_VERSION` and the registry logins of
    /// `$DOCKER_CONFIG/config.json`. `DEVENV_ENGINE_TIMEOUT` (seconds) bounds each ordinary call.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment, home: String = NSHomeDirectory()
    ) throws -> DockerClient {
        let selection = try EngineDiscovery.select(environment: environment, home: home)
        let timeout = environment["DEVENV_ENGINE_TIMEOUT"].flatMap(TimeInterval.init) ?? 60
        return DockerClient(
            transport: CurlTransport(connection: selection.connection), apiVersion: environment["DOCKER_API_VERSION"],
            requestTimeout: timeout, selection: selection,
            credentials: RegistryCredentials(
                configDirectory: EngineDiscovery.configDirectory(environment: environment, home: home),
                environment: environment))
    }

    public var endpoint: EngineEndpoint { transport.endpoint }
    public var connection: EngineConnection { transport.connection }

    // MARK: version negotiation

    /// The API version in use: `DOCKER_API_VERSION` if given, else the lower of the engine's
    /// and `maxAPIVersion`, found with `/_ping` (falling back to `/version`).
    public func apiVersion() async throws -> String {
        if let pinnedVersion { return pinnedVersion }
        if let known = negotiated.withLock({ $0 }) { return known }
        let ping = try await pingExplained()
        firstPing.withLock { $0 = ping }
        var serverVersion = ping.apiVersion
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
            throw explained(DockerEngineError.api(status: response.status, body: response.body, request: request))
        }
    }

    /// Engine answers that mean something other than what they say: plain HTTP sent to a TLS
    /// port, and a route the engine does not have (an old Podman), in the user's terms.
    func explained(_ error: DockerEngineError) -> DockerEngineError {
        guard error.code == .api else { return error }
        let message = error.message.lowercased()
        if error.status == 400 && message.contains("https server") {
            return DockerEngineError(
                .tls,
                "docker engine at \(endpoint) speaks TLS; set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to the directory holding ca.pem, cert.pem and key.pem",
                status: 400, underlying: error.underlying)
        }
        // Docker answers an unknown route with {"message":"page not found"}, Podman with "Not Found".
        if error.status == 404 && ["page not found", "not found", "404 page not found"].contains(message) {
            let route = error.underlying.map { " \($0.split(separator: "?").first ?? "")" } ?? ""
            return DockerEngineError(
                .unsupported,
                "docker engine at \(endpoint) does not implement\(route); upgrade it (Podman 4.0 or newer, Docker 20.10 or newer)",
                status: 404, underlying: error.underlying)
        }
        return error
    }

    /// `ping()`, with an unreachable engine explained by how it was chosen.
    func pingExplained() async throws -> PingResult {
        do {
            return try await ping()
        } catch let error as DockerEngineError where error.code == .unreachable {
            guard let selection else { throw error }
            switch selection.source {
            case .fallback:
                throw DockerEngineError(
                    .unreachable,
                    "cannot reach a docker engine: nothing answers at \(selection.tried.joined(separator: ", "))",
                    underlying: error.underlying,
                    hint:
                        "start one (dockerd, Docker Desktop, 'podman system service'), or set DOCKER_HOST or a docker context"
                )
            case .context:
                throw DockerEngineError(
                    .unreachable, "\(error.message) (docker context '\(selection.context ?? "")')",
                    underlying: error.underlying,
                    hint: error.hint
                        ?? "check the engine behind the context ('docker context inspect \(selection.context ?? "")')")
            case .dockerHost, .socket:
                throw error
            }
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
        upload: (any UploadSource)? = nil, headers: [String: String] = [:], timeout: TimeInterval? = nil
    ) async throws -> HTTPStreamResponse {
        var request = HTTPRequest(
            method: method, path: try await versionedPath(path, query: query), headers: headers, body: body,
            timeout: timeout)
        request.upload = upload
        let response = try await transport.stream(request)
        guard (200..<300).contains(response.status) else {
            let body = try await response.collect()
            throw explained(DockerEngineError.api(status: response.status, body: body, request: request))
        }
        return response
    }
}

/// What `/_ping` says.
public struct PingResult: Sendable {
    public var apiVersion: String?
    public var osType: String?
    public var builderVersion: String?
    /// Podman's own API version (`Libpod-Api-Version`); nil for Docker.
    public var podmanVersion: String?

    public init(apiVersion: String?, osType: String?, builderVersion: String?, podmanVersion: String? = nil) {
        self.apiVersion = apiVersion
        self.osType = osType
        self.builderVersion = builderVersion
        self.podmanVersion = podmanVersion
    }
}

/// What kind of engine answers: Docker or Podman, and whether it runs without root.
public struct EngineIdentity: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case docker
        case podman
    }
    public var kind: Kind
    public var version: String?
    public var rootless: Bool
    /// The engine's operating system as it reports it (`Docker Desktop`, `Debian GNU/Linux 12`).
    public var operatingSystem: String?

    public init(kind: Kind, version: String?, rootless: Bool, operatingSystem: String?) {
        self.kind = kind
        self.version = version
        self.rootless = rootless
        self.operatingSystem = operatingSystem
    }
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
            builderVersion: response.header("Builder-Version"), podmanVersion: response.header("Libpod-Api-Version"))
    }

    /// Docker or Podman, from the ping already made (one more when none was).
    public func kind() async throws -> EngineIdentity.Kind {
        let known = firstPing.withLock { $0 }
        let ping: PingResult
        if let known {
            ping = known
        } else {
            ping = try await self.ping()
        }
        return ping.podmanVersion == nil ? .docker : .podman
    }

    /// Runs the container's healthcheck once, now, on Podman (`/libpod/containers/{id}/healthcheck`),
    /// which otherwise needs systemd timers to run it; false on Docker, whose daemon runs them.
    public func runHealthcheck(_ id: String) async throws -> Bool {
        guard try await kind() == .podman else { return false }
        let request = HTTPRequest(
            method: "GET", path: "/v4.0.0/libpod/containers/\(pathComponent(id))/healthcheck",
            timeout: requestTimeout)
        return (200..<300).contains(try await transport.send(request).status)
    }

    /// Docker or Podman (Podman's ping carries `Libpod-Api-Version`), and rootless or not:
    /// Docker lists `name=rootless` in its security options; Podman says so in its own
    /// `/libpod/info` (its Docker-compatible `/info` does not).
    public func identity() async throws -> EngineIdentity {
        let ping = try await ping()
        let info = try await info()
        if let podman = ping.podmanVersion {
            struct PodmanInfo: Decodable {
                struct Host: Decodable {
                    struct Security: Decodable { var rootless: Bool? }
                    var security: Security?
                }
                var host: Host?
            }
            let request = HTTPRequest(method: "GET", path: "/v4.0.0/libpod/info", timeout: requestTimeout)
            let response = try await transport.send(request)
            let rootless =
                (200..<300).contains(response.status)
                ? (try? decoder.decode(PodmanInfo.self, from: response.body))?.host?.security?.rootless ?? false
                : false
            return EngineIdentity(
                kind: .podman, version: info.ServerVersion ?? podman, rootless: rootless,
                operatingSystem: info.OperatingSystem)
        }
        let rootless = (info.SecurityOptions ?? []).contains { $0.split(separator: ",").contains("name=rootless") }
        return EngineIdentity(
            kind: .docker, version: info.ServerVersion, rootless: rootless, operatingSystem: info.OperatingSystem)
    }

    public func version() async throws -> SystemVersion { try await get(SystemVersion.self, "/version") }
    public func info() async throws -> SystemInfo { try await get(SystemInfo.self, "/info") }
}
