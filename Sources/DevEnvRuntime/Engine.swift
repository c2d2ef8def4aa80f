import DevEnvModel
import DockerEngine
import Foundation

/// What core services need of a container engine. `DockerClient` is the real one; unit
/// tests substitute their own.
public protocol ContainerEngine: Sendable {
    /// Where the engine listens and how devenv reaches it.
    var connection: EngineConnection { get }
    func ping() async throws -> PingResult
    /// Docker or Podman, rootless or not.
    func identity() async throws -> EngineIdentity
    /// Docker or Podman, cheaply (from the negotiation's ping).
    func kind() async throws -> EngineIdentity.Kind
    /// Runs a container's healthcheck now where the engine can (Podman); false elsewhere.
    func runHealthcheck(_ id: String) async throws -> Bool
    func version() async throws -> SystemVersion
    func info() async throws -> SystemInfo
    /// The API version in use after negotiation.
    func apiVersion() async throws -> String

    func imageIfPresent(_ name: String) async throws -> ImageInspect?
    func buildImage(
        context tar: any UploadSource, options: DockerClient.BuildOptions
    ) async throws -> AsyncThrowingStream<ProgressEvent, any Error>
    func pullImage(_ reference: String) async throws -> AsyncThrowingStream<ProgressEvent, any Error>
    func listImages(labels: [String: String?]) async throws -> [ImageSummary]
    func removeImage(_ name: String, force: Bool) async throws

    func listContainers(all: Bool, labels: [String: String?]) async throws -> [ContainerSummary]
    func inspectContainer(_ id: String) async throws -> ContainerInspect
    func createContainer(name: String?, config: ContainerConfig) async throws -> ContainerCreateResponse
    func startContainer(_ id: String) async throws
    func stopContainer(_ id: String, timeout seconds: Int) async throws
    func killContainer(_ id: String, signal: String) async throws
    func pauseContainer(_ id: String) async throws
    func putArchive(_ id: String, path: String, tar: Data) async throws
    func putArchive(_ id: String, path: String, upload: any UploadSource) async throws
    func top(_ id: String, psArguments: String?) async throws -> ContainerTop
    func unpauseContainer(_ id: String) async throws
    func removeContainer(_ id: String, force: Bool, volumes: Bool) async throws
    func waitContainer(_ id: String, condition: String) async throws -> ContainerWaitResponse
    func logs(
        _ id: String, options: DockerClient.LogOptions, tty: Bool
    ) async throws -> AsyncThrowingStream<OutputFrame, any Error>
    func exec(container: String, config: ExecConfig) async throws -> ExecResult
    func createExec(container: String, config: ExecConfig) async throws -> String
    func startExec(_ id: String, tty: Bool) async throws -> AsyncThrowingStream<OutputFrame, any Error>
    func inspectExec(_ id: String) async throws -> ExecInspect

    func listNetworks(labels: [String: String?]) async throws -> [NetworkInspect]
    func createNetwork(_ spec: NetworkCreate) async throws -> String
    func removeNetwork(_ id: String) async throws
    func connectNetwork(_ network: String, container: String, aliases: [String]) async throws
    func disconnectNetwork(_ network: String, container: String, force: Bool) async throws
    func listVolumes(labels: [String: String?]) async throws -> [VolumeInspect]
    func createVolume(_ spec: VolumeCreate) async throws -> VolumeInspect
    func inspectVolume(_ name: String) async throws -> VolumeInspect
    func inspectNetwork(_ id: String) async throws -> NetworkInspect
    func removeVolume(_ name: String, force: Bool) async throws
}

extension ContainerEngine {
    /// Where the engine listens, as the user would name it.
    public var endpointDescription: String { connection.description }

    /// A build from a context already in memory (small ones devenv makes itself).
    public func buildImage(
        context tar: Data, options: DockerClient.BuildOptions
    ) async throws -> AsyncThrowingStream<ProgressEvent, any Error> {
        try await buildImage(context: DataUpload(tar), options: options)
    }
}

extension DockerClient: ContainerEngine {}
