import DevEnvCore
import DockerEngine
import Foundation
import Platform
import StateStore
import TestSupport
import Testing

/// The real engine with faults injected at chosen calls: what dockerd going away (a restart)
/// or stalling looks like to the orchestrator.
final class FaultyEngine: ContainerEngine, @unchecked Sendable {
    let base: DockerClient
    /// Called with the operation and its subject (a container name or ID, an image); an error
    /// it returns is thrown instead of calling the engine.
    let fault: @Sendable (String, String) -> (any Error)?

    /// Runs before each container start is passed on (the engine changing under a running up).
    let beforeStart: (@Sendable (String) async throws -> Void)?

    init(
        _ base: DockerClient, fault: @escaping @Sendable (String, String) -> (any Error)?,
        beforeStart: (@Sendable (String) async throws -> Void)? = nil
    ) {
        self.base = base
        self.fault = fault
        self.beforeStart = beforeStart
    }

    func check(_ operation: String, _ subject: String = "") throws {
        if let error = fault(operation, subject) { throw error }
    }

    var connection: EngineConnection { base.connection }
    func ping() async throws -> PingResult { try await base.ping() }
    func identity() async throws -> EngineIdentity { try await base.identity() }
    func kind() async throws -> EngineIdentity.Kind { try await base.kind() }
    func runHealthcheck(_ id: String) async throws -> Bool { try await base.runHealthcheck(id) }
    func version() async throws -> SystemVersion { try await base.version() }
    func info() async throws -> SystemInfo { try await base.info() }
    func apiVersion() async throws -> String { try await base.apiVersion() }
    func imageIfPresent(_ name: String) async throws -> ImageInspect? {
        try check("imageIfPresent", name)
        return try await base.imageIfPresent(name)
    }
    func buildImage(
        context tar: any UploadSource, options: DockerClient.BuildOptions
    ) async throws -> AsyncThrowingStream<ProgressEvent, any Error> {
        try check("buildImage", options.tags.first ?? "")
        return try await base.buildImage(context: tar, options: options)
    }
    func pullImage(_ reference: String) async throws -> AsyncThrowingStream<ProgressEvent, any Error> {
        try check("pullImage", reference)
        return try await base.pullImage(reference)
    }
    func listContainers(all: Bool, labels: [String: String?]) async throws -> [ContainerSummary] {
        try check("listContainers")
        return try await base.listContainers(all: all, labels: labels)
    }
    func inspectContainer(_ id: String) async throws -> ContainerInspect {
        try check("inspectContainer", id)
        return try await base.inspectContainer(id)
    }
    func createContainer(name: String?, config: ContainerConfig) async throws -> ContainerCreateResponse {
        try check("createContainer", name ?? "")
        return try await base.createContainer(name: name, config: config)
    }
    func startContainer(_ id: String) async throws {
        try check("startContainer", id)
        try await beforeStart?(id)
        try await base.startContainer(id)
    }
    func stopContainer(_ id: String, timeout seconds: Int) async throws {
        try await base.stopContainer(id, timeout: seconds)
    }
    func killContainer(_ id: String, signal: String) async throws { try await base.killContainer(id, signal: signal) }
    func pauseContainer(_ id: String) async throws { try await base.pauseContainer(id) }
    func top(_ id: String, psArguments: String?) async throws -> ContainerTop {
        try await base.top(id, psArguments: psArguments)
    }
    func putArchive(_ id: String, path: String, tar: Data) async throws {
        try await base.putArchive(id, path: path, tar: tar)
    }
    func putArchive(_ id: String, path: String, upload: any UploadSource) async throws {
        try await base.putArchive(id, path: path, upload: upload)
    }
    func unpauseContainer(_ id: String) async throws { try await base.unpauseContainer(id) }
    func removeContainer(_ id: String, force: Bool, volumes: Bool) async throws {
        try await base.removeContainer(id, force: force, volumes: volumes)
    }
    func waitContainer(_ id: String, condition: String) async throws -> ContainerWaitResponse {
        try await base.waitContainer(id, condition: condition)
    }
    func logs(
        _ id: String, options: DockerClient.LogOptions, tty: Bool
    ) async throws -> AsyncThrowingStream<OutputFrame, any Error> {
        try await base.logs(id, options: options, tty: tty)
    }
    func exec(container: String, config: ExecConfig) async throws -> ExecResult {
        try check("exec", container)
        return try await base.exec(container: container, config: config)
    }
    func createExec(container: String, config: ExecConfig) async throws -> String {
        try await base.createExec(container: container, config: config)
    }
    func startExec(_ id: String, tty: Bool) async throws -> AsyncThrowingStream<OutputFrame, any Error> {
        try await base.startExec(id, tty: tty)
    }
    func inspectExec(_ id: String) async throws -> ExecInspect { try await base.inspectExec(id) }
    func listNetworks(labels: [String: String?]) async throws -> [NetworkInspect] {
        try await base.listNetworks(labels: labels)
    }
    func createNetwork(_ spec: NetworkCreate) async throws -> String { try await base.createNetwork(spec) }
    func removeNetwork(_ id: String) async throws { try await base.removeNetwork(id) }
    func connectNetwork(_ network: String, container: String, aliases: [String]) async throws {
        try await base.connectNetwork(network, container: container, aliases: aliases)
    }
    func disconnectNetwork(_ network: String, container: String, force: Bool) async throws {
        try await base.disconnectNetwork(network, container: container, force: force)
    }
    func listVolumes(labels: [String: String?]) async throws -> [VolumeInspect] {
        try await base.listVolumes(labels: labels)
    }
    func createVolume(_ spec: VolumeCreate) async throws -> VolumeInspect { try await base.createVolume(spec) }
    func inspectVolume(_ name: String) async throws -> VolumeInspect { try await base.inspectVolume(name) }
    func inspectNetwork(_ id: String) async throws -> NetworkInspect { try await base.inspectNetwork(id) }
    func removeVolume(_ name: String, force: Bool) async throws { try await base.removeVolume(name, force: force) }
    func listImages(labels: [String: String?]) async throws -> [ImageSummary] {
        try await base.listImages(labels: labels)
    }
    func removeImage(_ name: String, force: Bool) async throws { try await base.removeImage(name, force: force) }
}

@Suite(.serialized) struct EngineFaultTests {
    /// PostgreSQL with a named volume, Redis, and a worker gated on PostgreSQL; `extra` adds
    /// services.
    static func stack(_ extra: String = "") -> String {
        """
        services:
          db:
            image: postgres:15
            environment: { POSTGRES_PASSWORD: pw }
            volumes: [pgdata:/var/lib/postgresql/data]
            healthcheck: { test: ["CMD", "pg_isready", "-U", "postgres"], interval: 1s, retries: 60 }
          cache:
            image: redis:7
          worker:
            image: debian:bookworm-slim
            command: ["sleep", "infinity"]
            init: true
            depends_on: { db: { condition: service_healthy } }
        \(extra)
        volumes:
          pgdata:
        """
    }

    func orchestrator(
        _ project: DevenvProject, progress: any ProgressSink = SilentProgress(),
        beforeStart: (@Sendable (String) async throws -> Void)? = nil,
        fault: @escaping @Sendable (String, String) -> (any Error)?
    ) throws -> Orchestrator {
        let stack = try StackLoader.load(
            StackLoadOptions(
                projectName: project.name, workingDirectory: project.directory, environment: [:])
        ).stack
        return Orchestrator(
            engine: FaultyEngine(project.fixture.client, fault: fault, beforeStart: beforeStart), stack: stack,
            store: try StateStore(path: project.state + "/state.db"), progress: progress)
    }

    /// Events as they were emitted, with whether the engine was already gone then.
    final class RecordedProgress: ProgressSink, @unchecked Sendable {
        let lock = NSLock()
        let gone: OnceFlag
        var events: [(OrchestratorEvent, afterLoss: Bool)] = []
        init(gone: OnceFlag) { self.gone = gone }
        func emit(_ event: OrchestratorEvent) { lock.withLock { events.append((event, gone.isSet)) } }
    }

    /// A killed `up`'s network create that lands after this `up` made its network: the engine
    /// then refuses the start ("network … is ambiguous"). The copy is merged away and the start
    /// tried again; every container ends on the one network left.
    @Test func aNetworkCopyLandingMidUpIsMergedAndTheStartRetried() async throws {
        let compose = """
            services:
              first:
                image: debian:bookworm-slim
                command: ["sh", "-c", "trap exit TERM; sleep infinity & wait"]
              second:
                image: debian:bookworm-slim
                command: ["sh", "-c", "trap exit TERM; sleep infinity & wait"]
                depends_on: [first]
            """
        try await DevenvProject(files: ["compose.yaml": compose]).run { project in
            let client = project.fixture.client
            let labels: [String: String?] = ["com.docker.compose.project": project.name]
            let name = "\(project.name)_default"
            let landed = OnceFlag()
            let up = try orchestrator(
                project,
                beforeStart: { _ in
                    guard !landed.isSet else { return }
                    landed.set()
                    let original = try await client.listNetworks(labels: labels).first { $0.Name == name }
                    var spec = NetworkCreate(name: name, labels: original?.Labels ?? [:])
                    spec.CheckDuplicate = false
                    _ = try await client.createNetwork(spec)
                }
            ) { _, _ in nil }
            _ = try await up.up(UpOptions())
            #expect(landed.isSet)
            let networks = try await client.listNetworks(labels: labels).filter { $0.Name == name }
            #expect(networks.count == 1)
            for (service, id) in try await project.containers() {
                let endpoint = try await client.inspectContainer(id).NetworkSettings?.Networks?[name]
                #expect(endpoint?.NetworkID == networks.first?.Id, "\(service) is not on the network left")
            }
        }
    }

    /// dockerd goes away while the worker is being created (what a restart looks like from
    /// here), and stays away: one error saying the engine went, where, and what to do; no
    /// service blamed, nothing printed after it. The rest of the stack and its volume are
    /// untouched, and the next up completes it.
    @Test func theEngineGoingAwayMidUpIsOneLineThatBlamesNoService() async throws {
        try await DevenvProject(files: ["compose.yaml": Self.stack()]).run { project in
            let gone = OnceFlag()
            let progress = RecordedProgress(gone: gone)
            let failing = try orchestrator(project, progress: progress) { operation, subject in
                if operation == "createContainer" && subject.hasSuffix("-worker-1") { gone.set() }
                return gone.isSet
                    ? DockerEngineError(
                        .unreachable, "cannot reach docker engine at unix:///var/run/docker.sock: connection refused")
                    : nil
            }
            do {
                _ = try await failing.up(UpOptions())
                Issue.record("up succeeded although the engine failed")
            } catch let lost as EngineLost {
                #expect(lost.endpoint == project.fixture.client.connection.description)
                #expect("\(lost)".contains("went away during up"), "\(lost)")
                #expect("\(lost)".contains("devenv doctor"), "\(lost)")
                #expect(!"\(lost)".contains("devenv logs"), "\(lost)")
            } catch {
                Issue.record("expected the engine to be named, not: \(error)")
            }
            let events = progress.lock.withLock { progress.events }
            #expect(!events.contains { $0.0.status == .failed }, "no service is blamed: \(events.map(\.0))")
            #expect(!events.contains { $0.afterLoss }, "nothing after the loss: \(events.filter(\.afterLoss).map(\.0))")
            let services = try await project.containers()
            #expect(services.keys.sorted() == ["cache", "db"])
            #expect(try await project.devenv(["up"]).status == 0)
            #expect(try await project.containers().keys.sorted() == ["cache", "db", "worker"])
            let volumes = try await project.fixture.client.listVolumes(labels: [
                "com.docker.compose.project": project.name
            ])
            #expect(volumes.map(\.Name) == ["\(project.name)_pgdata"])
        }
    }

    /// A service that never becomes healthy: one error naming it, its health output and its last
    /// log lines; the services that do not depend on it keep running, and the volume stays.
    @Test func anUnhealthyServiceFailsAloneWithItsLogs() async throws {
        let sick = """
              sick:
                image: debian:bookworm-slim
                command: ["sh", "-c", "echo starting the sick service; echo cannot open /data/config >&2; sleep infinity"]
                init: true
                healthcheck: { test: ["CMD-SHELL", "echo config missing; exit 1"], interval: 1s, retries: 2 }
            """
        try await DevenvProject(files: ["compose.yaml": Self.stack(sick)]).run { project in
            // The sick service fails on its own healthcheck within seconds; the timeout only bounds
            // the database the worker waits for, which a loaded CI machine may take long to start.
            let up = try await project.devenv(["up", "--timeout", "180"])
            #expect(up.status == 1)
            #expect(up.stderr.contains("sick"), "\(up.stderr)")
            #expect(up.stderr.contains("unhealthy"), "\(up.stderr)")
            #expect(up.stderr.contains("cannot open /data/config"), "\(up.stderr)")
            let rows = try await project.statusRows()
            let running = rows.filter { $0["state"] as? String == "running" }.compactMap { $0["service"] as? String }
            #expect(Set(running).isSuperset(of: ["cache", "db", "worker"]))
            let volumes = try await project.fixture.client.listVolumes(labels: [
                "com.docker.compose.project": project.name
            ])
            #expect(volumes.map(\.Name) == ["\(project.name)_pgdata"])
        }
    }
}
