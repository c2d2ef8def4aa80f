import Foundation
import Platform

/// A login for one registry, as the engine takes it in `X-Registry-Auth`. Never printed,
/// logged or stored by devenv: it lives only for the request that carries it.
public struct RegistryCredential: Sendable, Equatable {
    public var username: String?
    public var password: String?
    /// An OAuth refresh token (`identitytoken` in config.json; a helper's `<token>` user).
    public var identityToken: String?
    public var serverAddress: String

    public init(username: String?, password: String?, identityToken: String? = nil, serverAddress: String) {
        self.username = username
        self.password = password
        self.identityToken = identityToken
        self.serverAddress = serverAddress
    }

    /// The engine's AuthConfig JSON (field names as the API spells them).
    var authConfig: [String: String] {
        var config = ["serveraddress": serverAddress]
        if let identityToken {
            config["identitytoken"] = identityToken
        } else {
            config["username"] = username ?? ""
            config["password"] = password ?? ""
        }
        return config
    }
}

/// Where image references' registries are, the way the docker CLI splits them.
public enum ImageRegistry {
    /// Docker Hub's key in config.json and for credential helpers.
    public static let dockerHubKey = "https://index.docker.io/v1/"

    /// The registry host of `reference`: its first component when that has a `.` or `:` or is
    /// `localhost`, else Docker Hub (`docker.io`).
    public static func host(of reference: String) -> String {
        let first = reference.split(separator: "/", maxSplits: 1)
        guard first.count == 2 else { return "docker.io" }
        let candidate = String(first[0])
        return candidate.contains(".") || candidate.contains(":") || candidate == "localhost" ? candidate : "docker.io"
    }

    /// The key config.json uses for `host`.
    public static func configKey(for host: String) -> String {
        ["docker.io", "index.docker.io", "registry-1.docker.io"].contains(host) ? dockerHubKey : host
    }

    /// `https://registry.example.org/v1/` → `registry.example.org`, so keys written either way match.
    static func normalize(_ key: String) -> String {
        var value = key
        for scheme in ["https://", "http://"] where value.hasPrefix(scheme) { value.removeFirst(scheme.count) }
        if let slash = value.firstIndex(of: "/") { value = String(value[..<slash]) }
        return ["index.docker.io", "registry-1.docker.io", "docker.io"].contains(value) ? "docker.io" : value
    }
}

/// Reads registry logins the way the docker CLI stores them in `$DOCKER_CONFIG/config.json`:
/// `credHelpers` (per registry), then `credsStore` (all registries), then `auths` (a base64
/// `user:password` or an `identitytoken`). Helpers are `docker-credential-NAME` programs on PATH
/// speaking docker's protocol: `get` with the server on stdin, JSON on stdout.
public struct RegistryCredentials: Sendable {
    public let configDirectory: String
    let environment: [String: String]

    public init(configDirectory: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.configDirectory = configDirectory
        self.environment = environment
    }

    var configPath: String { (configDirectory as NSString).appendingPathComponent("config.json") }

    struct Config: Decodable {
        struct Auth: Decodable {
            var auth: String?
            var username: String?
            var password: String?
            var identitytoken: String?
        }
        var auths: [String: Auth]?
        var credsStore: String?
        var credHelpers: [String: String]?
    }

    func config() throws -> Config? {
        guard let data = FileManager.default.contents(atPath: configPath) else { return nil }
        do {
            return try JSONDecoder().decode(Config.self, from: data)
        } catch {
            throw DockerEngineError(
                .credentials,
                "\(configPath) is not valid docker configuration JSON; fix it or run 'docker login' again",
                underlying: String(describing: error))
        }
    }

    /// The login for the registry of `reference`, or nil when none is configured.
    public func credential(forImage reference: String) throws -> RegistryCredential? {
        try credential(forRegistry: ImageRegistry.host(of: reference))
    }

    /// The login for registry `host` (`docker.io`, `registry.example.org:5000`).
    public func credential(forRegistry host: String) throws -> RegistryCredential? {
        guard let config = try config() else { return nil }
        let wanted = ImageRegistry.normalize(host)
        let serverKey = ImageRegistry.configKey(for: host)
        if let helper = config.credHelpers?.first(where: { ImageRegistry.normalize($0.key) == wanted })?.value {
            return try fromHelper(helper, server: serverKey, registry: host)
        }
        if let store = config.credsStore, !store.isEmpty,
            let found = try fromHelper(store, server: serverKey, registry: host)
        {
            return found
        }
        guard let (key, auth) = config.auths?.first(where: { ImageRegistry.normalize($0.key) == wanted }) else {
            return nil
        }
        if let token = auth.identitytoken, !token.isEmpty {
            return RegistryCredential(username: nil, password: nil, identityToken: token, serverAddress: key)
        }
        if let encoded = auth.auth, !encoded.isEmpty {
            guard let decoded = Data(base64Encoded: encoded).map({ String(decoding: $0, as: UTF8.self) }),
                let colon = decoded.firstIndex(of: ":")
            else {
                throw DockerEngineError(
                    .credentials,
                    "the login for \(host) in \(configPath) is not base64 of user:password; run 'docker login \(host)' again"
                )
            }
            return RegistryCredential(
                username: String(decoded[..<colon]), password: String(decoded[decoded.index(after: colon)...]),
                serverAddress: key)
        }
        if let username = auth.username, let password = auth.password {
            return RegistryCredential(username: username, password: password, serverAddress: key)
        }
        return nil
    }

    /// Asks `docker-credential-NAME get`. "Not found" is nil; anything else that fails is an error
    /// naming the helper and the next step (the helper's output is not repeated: it may hold a secret).
    func fromHelper(_ name: String, server: String, registry: String) throws -> RegistryCredential? {
        let program = "docker-credential-" + name
        guard let path = Self.find(program, in: environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin") else {
            throw DockerEngineError(
                .credentials,
                "credential helper \(program) (for \(registry), from \(configPath)) is not installed; install it, or remove it from config.json and run 'docker login \(registry)'"
            )
        }
        // Bounded: a helper waiting on a keychain prompt must not hang devenv.
        let outcome: SpawnedProcess.Outcome
        do {
            outcome = try SpawnedProcess.run([path, "get"], input: Data(server.utf8), timeout: 30)
        } catch {
            throw DockerEngineError(
                .credentials, "credential helper \(path) could not be started: \(error); check that it is executable")
        }
        if outcome.timedOut {
            throw DockerEngineError(
                .credentials, "credential helper \(program) did not answer for \(registry) within 30 s")
        }
        let data = outcome.output
        let text = String(decoding: data, as: UTF8.self)
        guard outcome.status == 0 else {
            if text.lowercased().contains("credentials not found") { return nil }
            throw DockerEngineError(
                .credentials,
                "credential helper \(program) failed for \(registry) (exit \(outcome.status)); run 'docker login \(registry)', or check the helper"
            )
        }
        struct Answer: Decodable {
            var ServerURL: String?
            var Username: String?
            var Secret: String?
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: data), let secret = answer.Secret else {
            throw DockerEngineError(
                .credentials, "credential helper \(program) answered something other than docker's JSON for \(registry)"
            )
        }
        if answer.Username == "<token>" {
            return RegistryCredential(username: nil, password: nil, identityToken: secret, serverAddress: server)
        }
        return RegistryCredential(username: answer.Username, password: secret, serverAddress: server)
    }

    static func find(_ program: String, in path: String) -> String? {
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// `X-Registry-Auth`: base64url of the AuthConfig JSON.
    public static func authHeader(_ credential: RegistryCredential) -> String {
        base64URL(json(credential.authConfig))
    }

    /// `X-Registry-Config` for a build: base64url of registry → AuthConfig.
    public static func configHeader(_ credentials: [RegistryCredential]) -> String {
        var map: [String: [String: String]] = [:]
        for credential in credentials { map[credential.serverAddress] = credential.authConfig }
        return base64URL(json(map))
    }

    private static func json(_ value: Any) -> Data {
        (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])) ?? Data("{}".utf8)
    }

    private static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    }
}
