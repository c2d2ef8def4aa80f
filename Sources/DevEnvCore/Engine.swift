import DockerEngine

/// What core services need of a container engine. `DockerClient` is the real one; unit
/// tests substitute their own.
public protocol ContainerEngine: Sendable {
    /// Where the engine listens, as the user would name it.
    var endpointDescription: String { get }
    func ping() async throws -> PingResult
    func version() async throws -> SystemVersion
    func info() async throws -> SystemInfo
    /// The API version in use after negotiation.
    func apiVersion() async throws -> String
}

extension DockerClient: ContainerEngine {
    public var endpointDescription: String { endpoint.description }
}
