import Crypto
import DevEnvModel
import DevEnvProvisioning
import DevEnvRuntime
import DevEnvSamples
import DockerEngine
import Foundation
import Platform
import Postgres
import StateStore
import Synchronization

/// Options of `devenv up`.
public struct UpOptions: Sendable {
    /// Only these services and what they depend on; all when empty.
    public var services: [String]
    public var removeOrphans: Bool
    /// Rebuild images with `build:` even when present.
    public var build: Bool
    /// How long one service may take to become healthy or complete, in seconds.
    public var readinessTimeout: Double
    /// Load `x-devenv.seed` sets (off with `--no-seed`).
    public var seed: Bool

    public init(
        services: [String] = [], removeOrphans: Bool = false, build: Bool = false, readinessTimeout: Double = 300,
        seed: Bool = true
    ) {
        self.services = services
        self.removeOrphans = removeOrphans
        self.build = build
        self.readinessTimeout = readinessTimeout
        self.seed = seed
    }
}

/// What `up` did, per service.
public struct UpSummary: Sendable, Codable, Equatable {
    public var created: [String] = []
    public var recreated: [String] = []
    public var started: [String] = []
    public var unchanged: [String] = []
    public var orphans: [String] = []
    /// PostgreSQL services that initialized their cluster themselves and could start from a
    /// cached one next time: what `PostgresInitCache.build` (in the background) should make.
    public var initCacheRequests: [PostgresInitCache.Request] = []

    /// Nothing was created, recreated or started.
    public var changedNothing: Bool { created.isEmpty && recreated.isEmpty && started.isEmpty }
}

/// One row of `devenv status`.
public struct ServiceStatus: Sendable, Codable, Equatable {
    public struct Port: Sendable, Codable, Equatable {
        public var hostIP: String?
        public var hostPort: Int?
        public var containerPort: Int
        public var `protocol`: String
    }
    public var service: String
    public var container: String
    public var image: String
    public var state: String
    /// `healthy`, `unhealthy`, `starting`, or empty without a healthcheck.
    public var health: String
    public var ports: [Port]
}

/// Converges the engine to a stack: builds or pulls images, creates the project's network and
/// volumes, and starts services in parallel along the dependency graph, each as soon as its
/// `depends_on` conditions hold.
public final class Orchestrator: Sendable {
    let engine: any ContainerEngine
    let stack: Stack
    let store: StateStore?
    let progress: any ProgressSink
    /// Set for disposable projects (`devenv test`, `up --ephemeral`): labels on everything created.
    let ephemeral: Ephemeral?
    let clock = ContinuousClock()
    let startedAt: ContinuousClock.Instant
    /// Where this machine reaches published ports, and where they are published.
    public let endpoints: HostEndpoints
    /// Set once the engine is gone: progress stops, so nothing is printed after the one line.
    let silenced = OnceFlag()
    /// Each network's engine ID by engine name, as `up` found or made it; merging a network the
    /// engine holds twice updates it, so containers created later join the one kept.
    let networkIDs = Mutex<[String: String]>([:])

    /// `stack` as the file says; the orchestrator publishes it as `Stack.reachable(from:)` says,
    /// so devenv reaches its databases from this machine on every engine.
    public init(
        engine: any ContainerEngine, stack: Stack, store: StateStore?, progress: any ProgressSink = SilentProgress(),
        ephemeral: Ephemeral? = nil
    ) {
        self.engine = engine
        endpoints = HostEndpoints(connection: engine.connection)
        self.stack = stack.reachable(from: endpoints)
        self.store = store
        self.progress = progress
        self.ephemeral = ephemeral
        startedAt = ContinuousClock().now
    }

    var projectFilter: [String: String?] { [ProjectLabel.project: stack.name] }

    func emit(_ service: String?, _ status: OrchestratorEvent.Status, _ message: String? = nil) {
        guard !silenced.isSet else { return }
        let elapsed = clock.now - startedAt
        progress.emit(
            OrchestratorEvent(
                service: service, status: status, message: message,
                elapsed: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
    }

    // MARK: selection

    /// The named services and everything they depend on, in dependency order.
    func selectedServices(_ names: [String]) throws -> [Service] {
        for name in names where stack.service(name) == nil {
            throw DevEnvError(
                "no service '\(name)' in the stack (services: \(stack.services.map(\.name).joined(separator: ", ")))",
                exitCode: 2)
        }
        var wanted = Set(names.isEmpty ? stack.services.map(\.name) : names)
        var frontier = Array(wanted)
        while let name = frontier.popLast() {
            for dependency in stack.service(name)?.dependsOn ?? [] where stack.service(dependency.service) != nil {
                if wanted.insert(dependency.service).inserted { frontier.append(dependency.service) }
            }
        }
        // Topological order (the loader already refused cycles).
        var ordered: [Service] = []
        var done: Set<String> = []
        func visit(_ service: Service) {
            guard !done.contains(service.name) else { return }
            done.insert(service.name)
            for dependency in service.dependsOn {
                if let next = stack.service(dependency.service), wanted.contains(next.name) { visit(next) }
            }
            ordered.append(service)
        }
        for service in stack.services where wanted.contains(service.name) { visit(service) }
        return ordered
    }

    // MARK: up

    public func up(_ options: UpOptions = UpOptions()) async throws -> UpSummary {
        let services = try selectedServices(options.services)
        if endpoints.unresolvable {
            throw DevEnvError(
                "\(endpoints.reachableHost), the host of docker engine \(engine.endpointDescription), does not resolve from this machine, so devenv could not reach the ports it publishes there; set DEVENV_ENGINE_ADDRESS to that host's address"
            )
        }
        var summary = UpSummary()

        let (existing, duplicates) = try await projectContainers()
        let declared = Set(stack.services.map(\.name))
        let inactive = Set(stack.inactiveServices)
        let orphans = existing.filter { !declared.contains($0.key) && !inactive.contains($0.key) }
        summary.orphans = orphans.keys.sorted()
        for name in summary.orphans {
            emit(
                name, .orphan,
                options.removeOrphans ? "removing" : "not in the stack file; remove with --remove-orphans")
        }

        let images = try await ensureImages(services, force: options.build)
        guard let store else { throw DevEnvError("up needs the state store for generated values") }
        let resolver = TemplateResolver(stack: stack, store: store)
        var plans: [String: ContainerPlan] = [:]
        var initCache: [String: PostgresInitCache.Request] = [:]
        let cacheClusters = PostgresInitCache.enabled
        for service in services {
            let (plan, environment) = try containerPlan(service, resolver: resolver, imageID: images[service.name]?.Id)
            plans[service.name] = plan
            if cacheClusters, let image = images[service.name],
                existing[service.name]?.Labels?[ProjectLabel.configHash] != plans[service.name]?.configHash
            {
                initCache[service.name] = PostgresInitCache.request(
                    for: service, project: stack.name, environment: environment, base: image
                ).map {
                    var request = $0
                    request.engine = engine.endpointDescription
                    return request
                }
            }
        }
        summary.initCacheRequests = await useInitializedClusters(initCache, plans: &plans)
        try await checkPorts(services, plans: plans, existing: existing)
        try await ensureNetworksAndVolumes(services)

        // A second container for a service, left by a killed run: removed, or up says why not.
        for container in duplicates { try await removeContainer(container, timeout: 1) }
        if options.removeOrphans {
            for (_, container) in orphans { try await removeContainer(container) }
        }

        let outcomes = ConvergeOutcomes()
        let waits = ReadinessWaits()
        let slots = StartSlots(Settings.current.startSlots)
        let priorities = StartSlots.priorities(of: services)
        var tasks: [String: Task<String, any Error>] = [:]
        for service in services {
            let dependencies = service.dependsOn.compactMap { dependency in
                tasks[dependency.service].map { (dependency, $0) }
            }
            let plan = plans[service.name]!
            let current = existing[service.name]
            let image = images[service.name]
            tasks[service.name] = Task {
                for (dependency, task) in dependencies {
                    let id: String
                    do {
                        id = try await task.value
                    } catch {
                        throw ServiceFailure.blocked(service.name, by: dependency.service)
                    }
                    guard let dependencyService = self.stack.service(dependency.service) else { continue }
                    do {
                        try await self.waitForCondition(
                            dependency, of: dependencyService, id: id, for: service, waits: waits,
                            outcomes: outcomes, timeout: options.readinessTimeout, seed: options.seed)
                    } catch let failure as ServiceFailure where failure.service == dependency.service {
                        throw ServiceFailure.blocked(service.name, by: dependency.service)
                    }
                }
                let (id, change) = try await self.converge(
                    service, plan: plan, image: image, current: current, slots: slots,
                    priority: priorities[service.name] ?? 0)
                await outcomes.record(service.name, change)
                return id
            }
        }

        // Every started service is also waited for on its own, so `up` ends with all ready.
        let startTasks = tasks
        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                for service in services {
                    let task = startTasks[service.name]!
                    group.addTask {
                        do {
                            let id = try await task.value
                            try await waits.once(self.ownReadinessKey(service)) {
                                try await self.waitOwnReadiness(
                                    service, id: id, outcomes: outcomes, timeout: options.readinessTimeout,
                                    seed: options.seed)
                            }
                        } catch let failure as ServiceFailure {
                            self.emit(service.name, .failed, failure.reason)
                            await outcomes.fail(failure)
                        } catch let error as DockerEngineError where error.meansEngineGone {
                            // Not this service's fault, and nothing else can go on: stop it all.
                            self.silenced.set()
                            await outcomes.loseEngine(error)
                            for task in startTasks.values { task.cancel() }
                        } catch is CancellationError {
                            await outcomes.fail(ServiceFailure(service: service.name, reason: "was interrupted"))
                        } catch {
                            let failure = ServiceFailure(service: service.name, reason: "failed: \(error)")
                            self.emit(service.name, .failed, failure.reason)
                            await outcomes.fail(failure)
                        }
                    }
                }
            }
        } onCancel: {
            for task in startTasks.values { task.cancel() }
        }
        if let lost = await outcomes.engineLost {
            throw EngineLost(endpoint: engine.endpointDescription, reason: lost.underlying ?? lost.message)
        }
        try Task.checkCancellation()

        let changes = await outcomes.changes
        for (service, change) in changes.sorted(by: { $0.key < $1.key }) {
            switch change {
            case .created: summary.created.append(service)
            case .recreated: summary.recreated.append(service)
            case .started: summary.started.append(service)
            case .unchanged: summary.unchanged.append(service)
            }
        }
        let failures = await outcomes.failures
        if !failures.isEmpty {
            // The root causes first: services that failed only because a dependency did come last.
            let ordered = failures.sorted {
                ($0.blockedBy == nil ? 0 : 1) < ($1.blockedBy == nil ? 0 : 1)
            }
            throw UpFailure(failures: ordered)
        }
        emit(nil, .done, summary.changedNothing ? "nothing to do: every service is up to date" : nil)
        return summary
    }

    enum Change: Sendable { case created, recreated, started, unchanged }

    /// The project's containers by service (the first listed), and any further ones a killed
    /// run left for a service (`up` removes them).
    func projectContainers() async throws -> (byService: [String: ContainerSummary], duplicates: [ContainerSummary]) {
        var byService: [String: ContainerSummary] = [:]
        var duplicates: [ContainerSummary] = []
        for container in try await engine.listContainers(all: true, labels: projectFilter) {
            guard let service = container.Labels?[ProjectLabel.service] else { continue }
            if byService[service] == nil { byService[service] = container } else { duplicates.append(container) }
        }
        return (byService, duplicates)
    }

    /// The service's container as the file describes it now, and its environment; a bad
    /// `{{ }}` reference is the file's fault (exit 2), a state store that fails is not.
    func containerPlan(
        _ service: Service, resolver: TemplateResolver, imageID: String?
    ) throws -> (
        ContainerPlan, [String: String]
    ) {
        let environment: [String: String]
        do {
            environment = try resolver.environment(of: service)
        } catch let error as StateStoreError {
            throw error
        } catch {
            throw DevEnvError("\(error)", exitCode: 2)
        }
        let plan = ContainerPlan.make(
            service: service, stack: stack, environment: environment, imageID: imageID ?? "",
            extraLabels: ephemeral?.labels(project: stack.name) ?? [:], files: try files(of: service))
        return (plan, environment)
    }

    /// The service's secrets and configs with their contents, read now: a file from this
    /// machine (so a remote engine gets it too), a variable's value, or the stack file's text.
    func files(of service: Service) throws -> [ContainerFile] {
        var files: [ContainerFile] = []
        for (kind, references, sources) in [
            ("secret", service.secrets ?? [], stack.secrets), ("config", service.configs ?? [], stack.configs),
        ] {
            for reference in references {
                guard let source = sources.first(where: { $0.name == reference.source }) else { continue }
                let contents: Data
                if let path = source.file {
                    do {
                        contents = try StackLoader.readBounded(path)
                    } catch {
                        throw DevEnvError(
                            "\(kind) \(source.name) of service \(service.name): cannot read \(path) (\(Self.reason(error))); create it or fix file: under the top-level \(kind)s",
                            exitCode: 2)
                    }
                } else {
                    contents = Data((source.environmentValue ?? source.content ?? "").utf8)
                }
                files.append(
                    ContainerFile(
                        path: reference.target, contents: contents, mode: reference.mode, uid: reference.uid,
                        gid: reference.gid))
            }
        }
        return files
    }

    /// Why a file could not be read, without its contents.
    static func reason(_ error: any Error) -> String {
        if let diagnostic = error as? Diagnostic { return diagnostic.message }
        let cocoa = error as NSError
        if cocoa.code == NSFileReadNoSuchFileError || cocoa.code == NSFileNoSuchFileError { return "no such file" }
        if cocoa.code == NSFileReadNoPermissionError { return "permission denied" }
        return cocoa.localizedDescription
    }

    /// PostgreSQL containers about to be created (`requests`, by service) start from a cached
    /// initialized cluster when one exists for their image and settings; returns the requests
    /// that have none yet.
    func useInitializedClusters(
        _ requests: [String: PostgresInitCache.Request], plans: inout [String: ContainerPlan]
    ) async -> [PostgresInitCache.Request] {
        var missing: [PostgresInitCache.Request] = []
        for (service, request) in requests.sorted(by: { $0.key < $1.key }) {
            guard let plan = plans[service] else { continue }
            if await PostgresInitCache.image(for: request, engine: engine) != nil {
                plans[service] = plan.usingInitializedCluster(request)
            } else {
                missing.append(request)
            }
        }
        return missing
    }

    /// Waits until `dependency`'s condition holds for `dependent` (one shared wait per service).
    func waitForCondition(
        _ dependency: Dependency, of target: Service, id: String, for dependent: Service, waits: ReadinessWaits,
        outcomes: ConvergeOutcomes, timeout: Double, seed: Bool
    ) async throws {
        switch dependency.condition {
        case .started:
            // Started and still running: a service that exits at once takes its dependents with it.
            try await waits.once("settled:\(target.name)") {
                try await self.settle(target, id: id, wasRunning: await outcomes.changes[target.name] == .unchanged)
            }
        case .healthy:
            if await !waits.isDone("healthy:\(target.name)") {
                emit(dependent.name, .waiting, "for \(target.name) to be healthy")
            }
            try await waits.once("healthy:\(target.name)") {
                try await self.becomeReady(target, id: id, timeout: timeout, requireCheck: true, seed: seed)
            }
        case .completedSuccessfully:
            if await !waits.isDone("completed:\(target.name)") {
                emit(dependent.name, .waiting, "for \(target.name) to complete")
            }
            try await waits.once("completed:\(target.name)") {
                try await self.waitCompleted(target, id: id, timeout: timeout)
            }
        }
    }

    /// Makes the service's container match the plan and run; returns its ID.
    /// Applies the planner's step for the service (`step`, the same decision `devenv plan`
    /// shows): keeps, starts, or (re)creates its container; returns its ID.
    func converge(
        _ service: Service, plan: ContainerPlan, image: ImageInspect?, current: ContainerSummary?,
        slots: StartSlots? = nil, priority: Int = 0
    ) async throws -> (String, Change) {
        // The image is in place by now (built or pulled): the step is about the container.
        let step = try await self.step(service, plan: plan, image: ImagePlan(image: image), current: current)
        switch (step.action, current) {
        case (.keep, let current?):
            emit(service.name, .upToDate, step.reasons.first)
            return (current.Id, .unchanged)
        case (.start, let current?):
            await slots?.acquire(priority: priority)
            defer { Task { await slots?.release() } }
            emit(service.name, .starting)
            try await startContainer(current.Id)
            emit(service.name, .started)
            return (current.Id, .started)
        default:
            break
        }
        let change: Change
        if let current {
            // The same reasons `plan` gives: what changed, by name.
            emit(service.name, .recreating, step.reasons.isEmpty ? nil : step.reasons.joined(separator: "; "))
            try await removeContainer(current, timeout: service.stopGracePeriod)
            change = .recreated
        } else {
            emit(service.name, .creating)
            change = .created
        }
        await slots?.acquire(priority: priority)
        defer { Task { await slots?.release() } }
        // Networks by ID as of now (a merge during this up may have changed them).
        let plan = plan.attached(to: networkIDs.withLock { $0 })
        let created: ContainerCreateResponse
        do {
            do {
                created = try await engine.createContainer(name: plan.containerName, config: plan.config)
            } catch let error as DockerEngineError where error.isNotFound && plan.withoutInitCache != nil {
                // The cached cluster's image went between the lookup and the create (a manual
                // `docker rmi`): the service's own image initializes as usual.
                created = try await engine.createContainer(name: plan.containerName, config: plan.withoutInitCache!)
            }
        } catch let error as DockerEngineError where error.isConflict {
            throw ServiceFailure(
                service: service.name,
                reason:
                    "cannot be created: the container name \(plan.containerName) is in use by a container this project does not own; remove it or set container_name"
            )
        }
        let id = created.Id
        // What the engine accepted but will not apply (a memory limit rootless Podman on cgroup
        // v1 ignores, no swap accounting): said, not lost.
        for warning in created.Warnings ?? [] where !warning.isEmpty { emit(service.name, .warning, warning) }
        // Some engines accept a setting without a word and leave it out; their record says so.
        if plan.asksForRuntimeSettings, let actual = try? await engine.inspectContainer(id) {
            let missing = plan.unappliedSettings(in: actual)
            if !missing.isEmpty {
                emit(
                    service.name, .warning,
                    "the engine at \(engine.endpointDescription) accepted but did not apply \(missing.joined(separator: ", ")); the container runs without \(missing.count == 1 ? "it" : "them")"
                )
            }
        }
        if !plan.files.isEmpty {
            // Before the start, so the program finds its secrets from its first instruction.
            try await engine.putArchive(id, path: "/", tar: try plan.filesArchive())
        }
        for network in plan.extraNetworks {
            try await engine.connectNetwork(network.name, container: id, aliases: network.aliases)
        }
        emit(service.name, .starting)
        do {
            try await startContainer(id)
        } catch let error as DockerEngineError where !error.meansEngineGone {
            throw ServiceFailure(service: service.name, reason: "could not start: \(error.message)")
        }
        emit(service.name, .started)
        return (id, change)
    }

    /// Stops (gracefully, within `timeout` seconds) and removes a container; one already gone is
    /// fine. Its anonymous volumes (an image's `VOLUME` the file does not name) go with it: a new
    /// container would not get them back, so keeping them would only leak disk. Named volumes
    /// are never touched here (the engine's `v=1` removes anonymous ones only).
    func removeContainer(_ container: ContainerSummary, timeout: Double? = nil) async throws {
        do {
            if container.status == .running {
                try await engine.stopContainer(container.Id, timeout: Int(timeout ?? 10))
            }
            try await engine.removeContainer(container.Id, force: true, volumes: true)
        } catch let error as DockerEngineError where error.isNotFound {
            return
        }
    }
}

extension Orchestrator {
    /// The image as the stack file names it, when the engine lists it with a prefix of its own
    /// (Podman: `localhost/postgres:15`, `docker.io/library/redis:7`).
    static func declaredImage(_ listed: String, declared: String?) -> String {
        guard let declared else { return listed }
        for prefix in ["localhost/", "docker.io/library/", "docker.io/"]
        where listed.hasPrefix(prefix) && String(listed.dropFirst(prefix.count)) == declared {
            return declared
        }
        return listed
    }
}

/// Shares one readiness wait per key among every service waiting on it.
actor ReadinessWaits {
    private var tasks: [String: Task<Void, any Error>] = [:]
    private var finished: Set<String> = []

    func isDone(_ key: String) -> Bool { finished.contains(key) }

    func once(_ key: String, _ work: @escaping @Sendable () async throws -> Void) async throws {
        let task = tasks[key] ?? Task { try await work() }
        tasks[key] = task
        try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
        finished.insert(key)
    }
}

/// What happened to each service during one `up`.
actor ConvergeOutcomes {
    private(set) var changes: [String: Orchestrator.Change] = [:]
    private(set) var failures: [ServiceFailure] = []
    /// The first sign that the engine went away, if it did.
    private(set) var engineLost: DockerEngineError?

    func loseEngine(_ error: DockerEngineError) { engineLost = engineLost ?? error }

    func record(_ service: String, _ change: Orchestrator.Change) { changes[service] = change }

    func fail(_ failure: ServiceFailure) {
        if !failures.contains(where: { $0.service == failure.service }) { failures.append(failure) }
    }
}
