import DevEnvCore
import DockerEngine
import Foundation

/// An engine in memory, for the orchestrator's unit tests: containers, images, networks and
/// volumes as plain records, every call written to `calls`. Containers run as soon as they
/// are started (or exit with the code `exitCodes` gives their service); builds and pulls make
/// an image at once. No dockerd.
public final class FakeEngine: ContainerEngine, @unchecked Sendable {
    public struct Container {
        public var id: String
        public var name: String
        public var config: ContainerConfig
        public var state: String
        public var exitCode: Int
        public var restartCount = 0
        public var startedAt: Date? = nil
    }

    private let lock = NSLock()
    private var containers: [String: Container] = [:]
    private var images: [String: ImageInspect] = [:]
    private var networks: [NetworkInspect] = []
    private var volumes: [VolumeInspect] = []
    private var log: [String] = []
    private var counter = 0
    /// Exit codes by service for containers that end as soon as they start.
    public var exitCodes: [String: Int] = [:]
    /// Services whose containers run for `seconds`, then exit with `code`.
    public var exitsAfter: [String: (seconds: Double, code: Int)] = [:]
    /// How many times each operation (`create-network`, `start`) is refused first with a
    /// rootless Podman's transient `route ip+net: no such network interface`.
    public var transientFailures: [String: Int] = [:]
    /// How long an inspect takes to answer, as a loaded or remote engine does: its answer is
    /// the state at the moment it was asked.
    public var inspectLatency: Duration = .zero

    public init(images references: [String] = []) {
        for reference in references { images[reference] = Self.image(id: Self.digest(reference), labels: [:]) }
    }

    public var connection: EngineConnection {
        EngineConnection(endpoint: try! EngineEndpoint(dockerHost: "unix:///fake/docker.sock"))
    }

    /// Every call made, as `operation subject`.
    public var calls: [String] { lock.withLock { log } }
    /// The calls that change something.
    public var changes: [String] {
        calls.filter { call in
            ["create", "start", "stop", "remove", "build", "pull", "connect"].contains { call.hasPrefix($0) }
        }
    }
    public func container(named name: String) -> Container? {
        lock.withLock { containers.values.first { $0.name == name } }
    }
    /// Puts a container in the state a killed run can leave it in.
    public func setState(ofContainerNamed name: String, to state: String) {
        lock.withLock {
            guard let id = containers.values.first(where: { $0.name == name })?.id else { return }
            containers[id]?.state = state
        }
    }
    /// Drops every record of `reference`, as a `docker rmi` would.
    public func removeImageNamed(_ reference: String) { lock.withLock { images[reference] = nil } }

    func record(_ call: String) { lock.withLock { log.append(call) } }

    /// Throws the transient network error while `operation` has failures left.
    func failTransiently(_ operation: String) throws {
        let fail = lock.withLock {
            guard let left = transientFailures[operation], left > 0 else { return false }
            transientFailures[operation] = left - 1
            return true
        }
        if fail { throw DockerEngineError(.api, "route ip+net: no such network interface", status: 500) }
    }

    static func digest(_ text: String) -> String {
        "sha256:"
            + String(String(text.hashValue, radix: 16).replacingOccurrences(of: "-", with: "f")).padding(
                toLength: 64, withPad: "0", startingAt: 0)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ object: [String: Any]) -> T {
        // swift-format-ignore: NeverForceUnwrap
        try! JSONDecoder().decode(type, from: JSONSerialization.data(withJSONObject: object))
    }

    static func image(id: String, labels: [String: String]) -> ImageInspect {
        decode(ImageInspect.self, ["Id": id, "Config": ["Labels": labels]])
    }

    static func matches(_ labels: [String: String]?, _ filter: [String: String?]) -> Bool {
        filter.allSatisfy { key, value in
            guard let actual = labels?[key] else { return false }
            return value.map { $0 == actual } ?? true
        }
    }

    func unsupported(_ what: String) -> DockerEngineError {
        DockerEngineError(.unsupported, "the fake engine does not do \(what)")
    }

    public func ping() async throws -> PingResult { throw unsupported("ping") }
    public func identity() async throws -> EngineIdentity {
        EngineIdentity(kind: .docker, version: "fake", rootless: false, operatingSystem: "fake")
    }
    public func kind() async throws -> EngineIdentity.Kind { .docker }
    public func runHealthcheck(_ id: String) async throws -> Bool { false }
    public func version() async throws -> SystemVersion { throw unsupported("version") }
    public func info() async throws -> SystemInfo { throw unsupported("info") }
    public func apiVersion() async throws -> String { "1.41" }

    public func imageIfPresent(_ name: String) async throws -> ImageInspect? {
        record("inspect-image \(name)")
        return lock.withLock { images[name] }
    }
    public func buildImage(
        context tar: any UploadSource, options: DockerClient.BuildOptions
    ) async throws -> AsyncThrowingStream<ProgressEvent, any Error> {
        let tag = options.tags.first ?? "untagged"
        record("build \(tag)")
        lock.withLock {
            counter += 1
            images[tag] = Self.image(id: Self.digest("\(tag)#\(counter)"), labels: options.labels)
        }
        return AsyncThrowingStream { $0.finish() }
    }
    public func pullImage(_ reference: String) async throws -> AsyncThrowingStream<ProgressEvent, any Error> {
        record("pull \(reference)")
        lock.withLock { images[reference] = Self.image(id: Self.digest(reference), labels: [:]) }
        return AsyncThrowingStream { $0.finish() }
    }
    public func listImages(labels: [String: String?]) async throws -> [ImageSummary] { [] }
    public func removeImage(_ name: String, force: Bool) async throws {
        record("remove-image \(name)")
        removeImageNamed(name)
    }

    public func listContainers(all: Bool, labels: [String: String?]) async throws -> [ContainerSummary] {
        record("list-containers")
        return lock.withLock {
            containers.values.sorted { $0.id < $1.id }
                .filter { (all || $0.state == "running") && Self.matches($0.config.Labels, labels) }
                .map {
                    ContainerSummary(
                        Id: $0.id, Names: ["/" + $0.name], Image: $0.config.Image, ImageID: nil, State: $0.state,
                        Status: $0.state, Labels: $0.config.Labels, Ports: [])
                }
        }
    }
    public func inspectContainer(_ id: String) async throws -> ContainerInspect {
        record("inspect \(id)")
        guard var container = lock.withLock({ containers[id] ?? containers.values.first { $0.name == id } }) else {
            throw DockerEngineError(.api, "No such container: \(id)", status: 404)
        }
        if container.state == "running", let service = container.config.Labels?[ProjectLabel.service],
            let exit = exitsAfter[service], let startedAt = container.startedAt,
            Date().timeIntervalSince(startedAt) >= exit.seconds
        {
            container.state = "exited"
            container.exitCode = exit.code
        }
        if inspectLatency > .zero { try await Task.sleep(for: inspectLatency) }
        let encoder = JSONEncoder()
        let config = try JSONSerialization.jsonObject(with: encoder.encode(container.config))
        return Self.decode(
            ContainerInspect.self,
            [
                "Id": container.id, "Name": "/" + container.name, "Config": config,
                "RestartCount": container.restartCount,
                "State": [
                    "Status": container.state, "Running": container.state == "running",
                    "ExitCode": container.exitCode,
                ],
            ])
    }
    public func createContainer(name: String?, config: ContainerConfig) async throws -> ContainerCreateResponse {
        let name = name ?? "fake-\(UUID().uuidString.prefix(6))"
        record("create \(name)")
        let id: String = try lock.withLock {
            guard !containers.values.contains(where: { $0.name == name }) else {
                throw DockerEngineError(
                    .api, "Conflict. The container name \"/\(name)\" is already in use", status: 409)
            }
            counter += 1
            let id = String(format: "%064x", counter)
            containers[id] = Container(id: id, name: name, config: config, state: "created", exitCode: 0)
            return id
        }
        return Self.decode(ContainerCreateResponse.self, ["Id": id])
    }
    public func startContainer(_ id: String) async throws {
        record("start \(id.prefix(12))")
        try failTransiently("start")
        lock.withLock {
            guard let service = containers[id]?.config.Labels?[ProjectLabel.service] else { return }
            if let code = exitCodes[service] {
                containers[id]?.state = "exited"
                containers[id]?.exitCode = code
            } else {
                containers[id]?.state = "running"
                containers[id]?.startedAt = Date()
            }
        }
    }
    public func stopContainer(_ id: String, timeout seconds: Int) async throws {
        record("stop \(id.prefix(12))")
        lock.withLock { containers[id]?.state = "exited" }
    }
    public func killContainer(_ id: String, signal: String) async throws {
        record("kill \(id.prefix(12)) \(signal)")
        lock.withLock { containers[id]?.state = "exited" }
    }
    public func top(_ id: String, psArguments: String?) async throws -> ContainerTop {
        throw unsupported("top")
    }
    public func putArchive(_ id: String, path: String, tar: Data) async throws {
        record("put-archive \(id.prefix(12)) \(path)")
    }
    public func putArchive(_ id: String, path: String, upload: any UploadSource) async throws {
        record("put-archive \(id.prefix(12)) \(path)")
    }
    public func pauseContainer(_ id: String) async throws {
        record("pause \(id.prefix(12))")
        lock.withLock { containers[id]?.state = "paused" }
    }
    public func unpauseContainer(_ id: String) async throws {
        record("unpause \(id.prefix(12))")
        lock.withLock { containers[id]?.state = "running" }
    }
    public func removeContainer(_ id: String, force: Bool, volumes: Bool) async throws {
        record("remove \(id.prefix(12))")
        lock.withLock { containers[id] = nil }
    }
    public func waitContainer(_ id: String, condition: String) async throws -> ContainerWaitResponse {
        let code = lock.withLock { containers[id]?.exitCode ?? 0 }
        return Self.decode(ContainerWaitResponse.self, ["StatusCode": code])
    }
    public func logs(
        _ id: String, options: DockerClient.LogOptions, tty: Bool
    ) async throws -> AsyncThrowingStream<OutputFrame, any Error> {
        AsyncThrowingStream { $0.finish() }
    }
    public func exec(container: String, config: ExecConfig) async throws -> ExecResult { throw unsupported("exec") }
    public func createExec(container: String, config: ExecConfig) async throws -> String { throw unsupported("exec") }
    public func startExec(_ id: String, tty: Bool) async throws -> AsyncThrowingStream<OutputFrame, any Error> {
        throw unsupported("exec")
    }
    public func inspectExec(_ id: String) async throws -> ExecInspect { throw unsupported("exec") }

    public func listNetworks(labels: [String: String?]) async throws -> [NetworkInspect] {
        lock.withLock { networks.filter { Self.matches($0.Labels, labels) } }
    }
    public func createNetwork(_ spec: NetworkCreate) async throws -> String {
        record("create-network \(spec.Name)")
        try failTransiently("create-network")
        return lock.withLock {
            counter += 1
            let id = String(format: "n%063x", counter)
            networks.append(
                Self.decode(NetworkInspect.self, ["Id": id, "Name": spec.Name, "Labels": spec.Labels ?? [:]]))
            return id
        }
    }
    public func removeNetwork(_ id: String) async throws {
        record("remove-network \(id)")
        lock.withLock { networks.removeAll { $0.Id == id } }
    }
    public func connectNetwork(_ network: String, container: String, aliases: [String]) async throws {
        record("connect \(network)")
    }
    public func disconnectNetwork(_ network: String, container: String, force: Bool) async throws {
        record("disconnect \(network)")
    }
    public func listVolumes(labels: [String: String?]) async throws -> [VolumeInspect] {
        lock.withLock { volumes.filter { Self.matches($0.Labels, labels) } }
    }
    public func createVolume(_ spec: VolumeCreate) async throws -> VolumeInspect {
        record("create-volume \(spec.Name)")
        let volume = Self.decode(VolumeInspect.self, ["Name": spec.Name, "Labels": spec.Labels ?? [:]])
        lock.withLock { volumes.append(volume) }
        return volume
    }
    public func inspectVolume(_ name: String) async throws -> VolumeInspect {
        guard let volume = lock.withLock({ volumes.first { $0.Name == name } }) else {
            throw DockerEngineError(.api, "no such volume", status: 404)
        }
        return volume
    }
    public func inspectNetwork(_ id: String) async throws -> NetworkInspect {
        guard let network = lock.withLock({ networks.first { $0.Id == id || $0.Name == id } }) else {
            throw DockerEngineError(.api, "no such network", status: 404)
        }
        return network
    }
    public func removeVolume(_ name: String, force: Bool) async throws {
        record("remove-volume \(name)")
        lock.withLock { volumes.removeAll { $0.Name == name } }
    }
}
