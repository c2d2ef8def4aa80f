import Foundation

/// Every failure of the Docker Engine module: what kind, the engine's own message, and
/// the HTTP status where the engine answered.
public struct DockerEngineError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// Nothing answers at the endpoint (socket missing, connection refused).
        case unreachable
        /// The engine answered with an HTTP error status (see `status`).
        case api
        /// `DOCKER_HOST` could not be understood.
        case invalidEndpoint
        /// A progress stream (build, pull) carried an `{"error": …}` line.
        case stream
        /// The engine's answer was not what its API promises (bad JSON, bad frame header).
        case malformedResponse
        /// The request did not finish within its timeout.
        case timeout
        /// The caller's task was cancelled.
        case cancelled
        /// The connection broke mid-request.
        case transport
        /// TLS to the engine failed: its certificate, ours, or a TLS/plain mismatch.
        case tls
        /// A registry refused a pull or a build's FROM: no or wrong credentials.
        case registryAuth
        /// Reading registry credentials failed (config.json, a credential helper).
        case credentials
        /// The engine does not implement an endpoint devenv used (an old Podman).
        case unsupported
        /// No engine could be chosen (a docker context that does not exist or has no endpoint).
        case discovery
    }

    public var code: Code
    public var message: String
    /// The HTTP status the engine answered with, for `.api`.
    public var status: Int?
    /// Lower-level detail (curl's error text) for logs and `--verbose`.
    public var underlying: String?
    /// The next step, when this error knows a better one than its code's usual advice.
    public var hint: String?

    public init(_ code: Code, _ message: String, status: Int? = nil, underlying: String? = nil, hint: String? = nil) {
        self.code = code
        self.message = message
        self.status = status
        self.underlying = underlying
        self.hint = hint
    }

    public var isNotFound: Bool { code == .api && status == 404 }
    /// The engine stopped answering: nothing listens any more, or the connection broke.
    public var meansEngineGone: Bool { code == .unreachable || code == .transport }
    public var isConflict: Bool { code == .api && status == 409 }
    public var isNotModified: Bool { code == .api && status == 304 }

    public var description: String { message }

    /// Builds the error for an HTTP error response, using the engine's `{"message": …}` body.
    static func api(status: Int, body: Data, request: HTTPRequest) -> DockerEngineError {
        struct Body: Decodable { var message: String }
        let text: String
        if let decoded = try? JSONDecoder().decode(Body.self, from: body) {
            text = decoded.message
        } else {
            let raw = String(decoding: body.prefix(512), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            text = raw.isEmpty ? "HTTP \(status)" : raw
        }
        return DockerEngineError(
            .api, text, status: status, underlying: "\(request.method) \(request.path)", hint: hint(for: text))
    }

    /// The next step for engine answers whose own text does not say what to do.
    static func hint(for message: String) -> String? {
        if message.contains("non-overlapping IPv4 address pool") {
            // dockerd's default pools hold 31 networks (Podman's, 255).
            return """
                the engine has no address range left for a new network: remove unused ones with \
                `docker network prune`, or give dockerd a larger pool \
                (--default-address-pool base=10.128.0.0/12,size=24)
                """
        }
        return nil
    }
}
