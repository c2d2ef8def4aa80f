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

        let existingContainers = try await engine.listContainers(all: true, labels: projectFilter)
        var existing: [String: ContainerSummary] = [:]
        var duplicates: [ContainerSummary] = []
        for container in existingContainers {
            guard let service = container.Labels?[ProjectLabel.service] else { continue }
            if existing[service] == nil { existing[service] = container } else { duplicates.append(container) }
        }
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
            let environment: [String: String]
            do {
                environment = try resolver.environment(of: service)
            } catch let error as StateStoreError {
                throw error
            } catch {
                throw DevEnvError("\(error)", exitCode: 2)
            }
            plans[service.name] = ContainerPlan.make(
                service: service, stack: stack, environment: environment, imageID: images[service.name]?.Id ?? "",
                extraLabels: ephemeral?.labels(project: stack.name) ?? [:])
            if cacheClusters, let image = images[service.name],
                existing[service.name]?.Labels?[ProjectLabel.configHash] != plans[service.name]?.configHash
            {
                initCache[service.name] = PostgresInitCache.request(
                    for: service, project: stack.name, environment: environment, base: image)
            }
        }
        summary.initCacheRequests = await useInitializedClusters(initCache, plans: &plans)
        try checkPorts(services, plans: plans, existing: existing)
        let networkIDs = try await ensureNetworksAndVolumes(services)

        for container in duplicates { try? await engine.removeContainer(container.Id, force: true, volumes: true) }
        if options.removeOrphans {
            for (_, container) in orphans { try await removeContainer(container) }
        }

        let outcomes = ConvergeOutcomes()
        let waits = ReadinessWaits()
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
                    service, plan: plan.attached(to: networkIDs), image: image, current: current)
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
        _ service: Service, plan: ContainerPlan, image: ImageInspect?, current: ContainerSummary?
    ) async throws -> (String, Change) {
        // The image is in place by now (built or pulled): the step is about the container.
        let step = try await self.step(service, plan: plan, image: ImagePlan(image: image), current: current)
        switch (step.action, current) {
        case (.keep, let current?):
            emit(service.name, .upToDate, step.reasons.first)
            return (current.Id, .unchanged)
        case (.start, let current?):
            emit(service.name, .starting)
            try await engine.startContainer(current.Id)
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
        let id: String
        do {
            do {
                id = try await engine.createContainer(name: plan.containerName, config: plan.config).Id
            } catch let error as DockerEngineError where error.isNotFound && plan.withoutInitCache != nil {
                // The cached cluster's image went between the lookup and the create (a manual
                // `docker rmi`): the service's own image initializes as usual.
                id = try await engine.createContainer(name: plan.containerName, config: plan.withoutInitCache!).Id
            }
        } catch let error as DockerEngineError where error.isConflict {
            throw ServiceFailure(
                service: service.name,
                reason:
                    "cannot be created: the container name \(plan.containerName) is in use by a container this project does not own; remove it or set container_name"
            )
        }
        for network in plan.extraNetworks {
            try await engine.connectNetwork(network.name, container: id, aliases: network.aliases)
        }
        emit(service.name, .starting)
        do {
            try await engine.startContainer(id)
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

    // MARK: images

    /// Builds or pulls what is missing; returns each service's image as the engine describes it.
    func ensureImages(_ services: [Service], force: Bool) async throws -> [String: ImageInspect] {
        var found: [String: ImageInspect] = [:]
        // Services sharing an image (a backend and its workers) resolve it once: one digest of
        // the build context, one build even with --build, one pull.
        var resolved: [String: ImageInspect] = [:]
        for service in services {
            let reference = service.imageReference(project: stack.name)
            if let known = resolved[reference] {
                found[service.name] = known
                continue
            }
            defer { resolved[reference] = found[service.name] }
            if let build = service.build {
                let (inputs, digest) = await buildInputs(build)
                if !force, let image = try await engine.imageIfPresent(reference),
                    image.Config?.Labels?[ProjectLabel.buildDigest] == digest
                {
                    found[service.name] = image
                    continue
                }
                found[service.name] = try await buildImage(service, build, reference, digest: digest)
                do {
                    try store?.saveBuildInputs(digest: digest, inputs: inputs)
                } catch {
                    // Only `plan`'s list of changed files needs it: say so, and go on.
                    emit(service.name, .warning, "could not record what \(reference) was built from: \(error)")
                }
                continue
            }
            let policy = service.pull
            if policy != .always, let image = try await engine.imageIfPresent(reference) {
                found[service.name] = image
                continue
            }
            guard policy != .never else {
                throw ServiceFailure(
                    service: service.name, reason: "needs image \(reference), which is not present (pull_policy: never)"
                )
            }
            emit(service.name, .pulling, reference)
            do {
                for try await event in try await engine.pullImage(reference) {
                    if let status = event.status, event.progressDetail?.total == nil {
                        emit(service.name, .pulling, [event.id, status].compactMap { $0 }.joined(separator: ": "))
                    }
                }
            } catch let error as DockerEngineError {
                throw ServiceFailure(
                    service: service.name,
                    reason: "needs image \(reference), which is not present and could not be pulled: \(error.message)")
            }
            guard let image = try await engine.imageIfPresent(reference) else {
                throw ServiceFailure(
                    service: service.name, reason: "pulled \(reference) but the engine does not have it")
            }
            emit(service.name, .pulled, reference)
            found[service.name] = image
        }
        return found
    }

    /// What a build would be made from now (its base images as they are on the engine), and
    /// the digest of that: an image with this digest label is up to date.
    func buildInputs(_ build: Build) async -> (inputs: [String], digest: String) {
        var bases: [String] = []
        for base in BuildDigest.baseImageReferences(build) {
            bases.append((try? await engine.imageIfPresent(base))??.Id ?? "absent:\(base)")
        }
        let inputs = BuildDigest.inputs(build, baseImages: bases)
        return (inputs, BuildDigest.digest(of: inputs))
    }

    /// A one-shot (no restart policy, no healthcheck) that exited 0 has done its work.
    func completedEarlier(_ service: Service, _ current: ContainerSummary) async throws -> Bool {
        guard current.status == .exited, !service.restarts, service.healthcheck == nil else { return false }
        return try await engine.inspectContainer(current.Id).State.ExitCode == 0
    }

    func buildImage(
        _ service: Service, _ build: Build, _ reference: String, digest: String
    ) async throws
        -> ImageInspect
    {
        emit(service.name, .building, reference)
        let ignore = DockerIgnore(contextDirectory: build.context)
        let context: TarStream
        do {
            context = try TarStream(directory: URL(fileURLWithPath: build.context)) { ignore.excludes($0) }
        } catch {
            throw ServiceFailure(service: service.name, reason: "cannot read build context \(build.context): \(error)")
        }
        var last: [String] = []
        do {
            for try await event in try await engine.buildImage(
                context: context,
                options: DockerClient.BuildOptions(
                    tags: [reference], dockerfile: build.dockerfile, buildArgs: build.args,
                    labels: [
                        ProjectLabel.project: stack.name, ProjectLabel.service: service.name,
                        ProjectLabel.buildDigest: digest,
                    ], target: build.target, baseImages: BuildDigest.baseImageReferences(build)
                ))
            {
                guard let text = event.stream?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else {
                    continue
                }
                last = Array((last + [text]).suffix(20))
                emit(service.name, .buildOutput, text)
            }
        } catch let error as DockerEngineError {
            let secrets = knownSecrets()
            throw ServiceFailure(
                service: service.name, reason: "image build failed: \(SecretRule.masking(secrets, in: error.message))",
                logTail: last.map { SecretRule.masking(secrets, in: $0) })
        }
        guard let image = try await engine.imageIfPresent(reference) else {
            throw ServiceFailure(service: service.name, reason: "built \(reference) but the engine does not have it")
        }
        emit(service.name, .built, reference)
        return image
    }

    // MARK: ports, networks, volumes

    /// Refuses to start anything when a published port is taken by someone else.
    func checkPorts(_ services: [Service], plans: [String: ContainerPlan], existing: [String: ContainerSummary]) throws
    {
        var problems: [String] = []
        var claimed: [String: String] = [:]
        for service in services {
            let current = existing[service.name]
            let keeps =
                current?.status == .running
                && current?.Labels?[ProjectLabel.configHash] == plans[service.name]?.configHash
            for port in service.ports {
                guard let published = port.published else { continue }
                let key = "\(port.hostIP):\(published)/\(port.protocol)"
                if let other = claimed[key] {
                    problems.append(
                        "port \(published) on \(port.hostIP) is published by both '\(other)' and '\(service.name)'")
                    continue
                }
                claimed[key] = service.name
                // Held by this project's own container for this service: fine, it stays or is replaced.
                if current?.Ports?.contains(where: { $0.PublicPort == published }) == true { continue }
                if keeps { continue }
                // A remote engine's ports are on its host, not this one: the engine says if taken.
                if !endpoints.isRemote
                    && !PortCheck.isFree(hostIP: port.hostIP, port: published, protocol: port.protocol)
                {
                    let holder =
                        existing.values.first { $0.Ports?.contains { $0.PublicPort == published } == true }
                        .map { "container \($0.Names.first?.dropFirst() ?? "")" }
                        ?? PortCheck.holder(ofTCPPort: published).map { "process \($0)" }
                    problems.append(
                        "port \(published) on \(port.hostIP) for service '\(service.name)' is already in use"
                            + (holder.map { " by \($0)" } ?? "") + "; stop it or change the published port")
                }
            }
        }
        if !problems.isEmpty { throw DevEnvError(problems.joined(separator: "\n")) }
    }

    /// Creates what is missing; returns each network's engine ID by engine name.
    func ensureNetworksAndVolumes(_ services: [Service]) async throws -> [String: String] {
        let usedNetworks = Set(services.flatMap { $0.networks.keys })
        var networkIDs: [String: String] = [:]
        var existingNetworks = try await engine.listNetworks(labels: projectFilter)
        for network in stack.networks where usedNetworks.contains(network.name) {
            if network.external {
                do {
                    networkIDs[network.engineName] = try await engine.inspectNetwork(network.engineName).Id
                } catch let error as DockerEngineError where error.isNotFound {
                    throw DevEnvError("external network \(network.engineName) does not exist; create it first")
                }
                continue
            }
            if !existingNetworks.contains(where: { $0.Name == network.engineName }) {
                var spec = NetworkCreate(
                    name: network.engineName, driver: network.driver ?? "bridge",
                    labels: [
                        ProjectLabel.project: stack.name, ProjectLabel.network: network.name,
                        ProjectLabel.managed: "true",
                    ].merging(ephemeral?.labels(project: stack.name) ?? [:]) { $1 })
                spec.Attachable = true
                _ = try await engine.createNetwork(spec)
                emit(nil, .created, "network \(network.engineName)")
                existingNetworks = try await engine.listNetworks(labels: projectFilter)
            }
            // The engine allows two networks of one name (a killed up's create can land after the
            // next up listed). Keep the lowest ID, which every concurrent up agrees on; drop the rest.
            let same = existingNetworks.filter { $0.Name == network.engineName }.sorted { $0.Id < $1.Id }
            networkIDs[network.engineName] = same.first?.Id
            for duplicate in same.dropFirst() { try? await engine.removeNetwork(duplicate.Id) }
        }
        let usedVolumes = Set(services.flatMap { $0.volumes.compactMap { $0.type == .volume ? $0.source : nil } })
        let existingVolumes = Set(try await engine.listVolumes(labels: projectFilter).map(\.Name))
        for volume in stack.volumes where usedVolumes.contains(volume.name) {
            if volume.external {
                do {
                    _ = try await engine.inspectVolume(volume.engineName)
                } catch let error as DockerEngineError where error.isNotFound {
                    throw DevEnvError("external volume \(volume.engineName) does not exist; create it first")
                }
                continue
            }
            guard !existingVolumes.contains(volume.engineName) else { continue }
            var labels = volume.labels
            labels[ProjectLabel.project] = stack.name
            labels[ProjectLabel.volume] = volume.name
            labels[ProjectLabel.managed] = "true"
            labels.merge(ephemeral?.labels(project: stack.name) ?? [:]) { $1 }
            _ = try await engine.createVolume(VolumeCreate(name: volume.engineName, labels: labels))
            emit(nil, .created, "volume \(volume.engineName)")
        }
        return networkIDs
    }

    // MARK: readiness

    /// Services devenv can probe natively, and on which container port.
    func nativeProbe(for service: Service) -> (kind: ServiceKind, port: Int)? {
        switch service.kind {
        case .postgres: return (.postgres, 5432)
        case .redis: return (.redis, 6379)
        case .other: return nil
        }
    }

    func ownReadinessKey(_ service: Service) -> String {
        if service.healthcheck.map({ !$0.disabled }) == true || nativeProbe(for: service) != nil
            || service.devenv?.postgres != nil || service.devenv?.django != nil
            || service.devenv?.settings["seed"] != nil
        {
            return "healthy:\(service.name)"
        }
        return "settled:\(service.name)"
    }

    /// After start: healthy if it can be checked, otherwise running through its settle time.
    func waitOwnReadiness(
        _ service: Service, id: String, outcomes: ConvergeOutcomes, timeout: Double, seed: Bool
    ) async throws {
        guard ownReadinessKey(service).hasPrefix("healthy:") else {
            try await settle(service, id: id, wasRunning: await outcomes.changes[service.name] == .unchanged)
            return
        }
        try await becomeReady(service, id: id, timeout: timeout, requireCheck: false, seed: seed)
        emit(service.name, .healthy)
    }

    /// Waits until the container has stayed running for the service's settle time without
    /// exiting or being restarted (or is healthy, which says more); fails with its exit code
    /// and last log lines otherwise. One that was already running before this `up` has settled.
    func settle(_ service: Service, id: String, wasRunning: Bool) async throws {
        let deadline = clock.now + .seconds(wasRunning ? 0 : service.settle)
        // Restarts since this up started it (the engine counts from its start), or since now.
        var restarts: Int? = wasRunning ? nil : 0
        while true {
            try Task.checkCancellation()
            let container = try await engine.inspectContainer(id)
            let state = container.State
            let restarted = restarts.map { (container.RestartCount ?? 0) > $0 } ?? false
            if state.Restarting == true || state.status == .restarting || restarted {
                // Once restarted, the engine reports the new run's code (0): name only a real one.
                let code = state.ExitCode.flatMap { $0 == 0 ? nil : " with code \($0)" } ?? ""
                let count = container.RestartCount ?? 0
                let restarts =
                    count == 0 ? "is being restarted" : "was restarted \(count == 1 ? "once" : "\(count) times")"
                throw ServiceFailure(
                    service: service.name, reason: "keeps exiting: exited\(code) and \(restarts)",
                    logTail: await logTail(id))
            }
            if !state.Running && state.status != .created {
                // A one-shot that finished successfully did what it was for.
                if state.ExitCode == 0 && !service.restarts { return }
                throw await exitFailure(service, id: id, state: state)
            }
            if state.health == .healthy || (state.Running && clock.now >= deadline) { return }
            restarts = restarts ?? container.RestartCount ?? 0
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Ready means: healthy (or running, when nothing can be checked), then provisioned — its
    /// PostgreSQL roles and databases, its Django migrations, superuser and site.
    func becomeReady(_ service: Service, id: String, timeout: Double, requireCheck: Bool, seed: Bool) async throws {
        try await waitReady(service, id: id, timeout: timeout, requireCheck: requireCheck)
        guard let store,
            service.devenv?.postgres != nil || service.devenv?.django != nil || service.devenv?.settings["seed"] != nil
        else { return }
        // Provisioned into this very container with this very spec: nothing can be missing
        // unless someone removed it by hand (`devenv provision` checks the catalog again).
        let digest = Self.provisionDigest(service)
        if (try? store.isProvisioned(project: stack.name, service: service.name, containerID: id, specDigest: digest))
            == true
        {
            return
        }
        let resolver = TemplateResolver(stack: stack, store: store)
        if let spec = service.devenv?.postgres {
            try await provisionPostgres(service, spec: spec, id: id, resolver: resolver, timeout: timeout)
        }
        // Migrations, then the sample data into the empty tables, then the superuser and site;
        // the `seeded` snapshot last, so `devenv db reset` keeps the superuser.
        let django = service.devenv?.django.map {
            DjangoProvisioning(engine: engine, service: service, spec: $0, resolver: resolver, containerID: id)
        }
        // One lookup of how to run manage.py (an exec in the container) serves both steps.
        let manage = try await django?.manageCommand() ?? []
        try await django?.migrate(manage) { self.emit(service.name, .provisioning, $0) }
        var seeded: [(DatabaseContext, String)] = []
        if seed, let sets = service.devenv?.settings["seed"] {
            let entries: [JSONValue] = if case .array(let items) = sets { items } else { [sets] }
            for set in entries {
                if let loaded = try await seedOnUp(service, seed: set, resolver: resolver, store: store) {
                    seeded.append(loaded)
                }
            }
        }
        if let django {
            try await django.finish(manage) { self.emit(service.name, .provisioning, $0) }
            emit(service.name, .provisioned, "django")
        }
        for (context, database) in seeded {
            try await offCooperativePool { try context.snapshotSeeded(database, force: true) }
        }
        // Skipped seeding (`--no-seed`) is not done: the next `up` without the flag seeds.
        if !seed && service.devenv?.settings["seed"] != nil { return }
        do {
            try store.markProvisioned(project: stack.name, service: service.name, containerID: id, specDigest: digest)
        } catch {
            // Unrecorded, the next `up` would provision again without knowing why: fail here.
            throw ServiceFailure(service: service.name, reason: "was provisioned, but \(error)")
        }
    }

    /// One `x-devenv.seed` entry — `PATH` or `{set: PATH, database: NAME}`; the key takes a
    /// list of them: the set is loaded into the database the service's own
    /// `DJANGO_DATABASE_*` point at (or, on a PostgreSQL service, its first database), as that
    /// database's owner. Returns where it loaded rows (to be snapshotted for `devenv db reset`).
    func seedOnUp(
        _ service: Service, seed: JSONValue, resolver: TemplateResolver, store: StateStore
    ) async throws -> (DatabaseContext, String)? {
        guard let path = seed.string ?? seed["set"]?.string else {
            throw ServiceFailure(
                service: service.name, reason: "x-devenv.seed must be a path or {set: PATH, database: NAME}")
        }
        let directory = path.hasPrefix("/") ? path : (stack.workingDirectory as NSString).appendingPathComponent(path)
        let set: SampleSet
        do {
            set = try SampleSet(directory: directory)
        } catch let error as DevEnvError {
            throw ServiceFailure(service: service.name, reason: "cannot be seeded: \(error.message)")
        }
        let environment = try resolver.environment(of: service)
        let databaseService =
            service.devenv?.postgres != nil
            ? service.name : (environment["DJANGO_DATABASE_HOST"] ?? environment["POSTGRES_HOST"])
        let context = try await DatabaseContext.stack(stack, service: databaseService, engine: engine, store: store)
        guard
            let database = seed["database"]?.string
                ?? (service.devenv?.postgres == nil ? environment["DJANGO_DATABASE_NAME"] : nil)
                ?? set.manifest.database ?? context.defaultDatabase
        else {
            throw ServiceFailure(
                service: service.name, reason: "cannot be seeded: no database named (set x-devenv.seed.database)")
        }
        emit(service.name, .provisioning, "seed \(set.manifest.name) into \(database)")
        do {
            let report = try await offCooperativePool {
                try context.seed(set, into: database, force: false)
            }
            switch report.outcome {
            case .alreadySeeded:
                emit(service.name, .provisioned, "\(database) already holds \(set.manifest.name)")
                return nil
            case .otherVersion:
                // The set changed since it was loaded (a pull): the developer's data stays, the
                // stack comes up, and the warning says how to take the new version.
                emit(
                    service.name, .warning,
                    "\(database) holds an older version of \(set.manifest.name), kept; 'devenv seed --force' loads the new one"
                )
                return nil
            case .seeded(let tables, let rows):
                emit(service.name, .provisioned, "seeded \(tables) tables, \(rows) rows into \(database)")
                return (context, database)
            }
        } catch let error as DevEnvError {
            throw ServiceFailure(
                service: service.name,
                reason: "was not seeded: \(error.message); 'devenv seed --force' replaces the data")
        } catch let error as PostgresError {
            throw ServiceFailure(service: service.name, reason: "was not seeded: \(error)")
        }
    }

    static func provisionDigest(_ service: Service) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var material = (try? encoder.encode(service.devenv?.postgres)) ?? Data()
        material += (try? encoder.encode(service.devenv?.django)) ?? Data()
        material += (try? encoder.encode(service.devenv?.settings["seed"])) ?? Data()
        return SHA256.hash(data: material).hexadecimal
    }

    func provisionPostgres(
        _ service: Service, spec: PostgresSpec, id: String, resolver: TemplateResolver, timeout: Double
    ) async throws {
        let environment = try resolver.environment(of: service)
        let container = try await engine.inspectContainer(id)
        guard let (host, port) = await endpoints.address(of: container, port: 5432, engine: engine) else {
            throw ServiceFailure(
                service: service.name,
                reason: "cannot be provisioned: its port 5432 is not reachable from this machine; publish it")
        }
        let target = PostgresTarget(admin: [
            "host": host, "port": String(port), "user": environment["POSTGRES_USER"] ?? "postgres",
            "password": environment["POSTGRES_PASSWORD"] ?? "",
        ])
        let provisioning = PostgresProvisioning(service: service, spec: spec, resolver: resolver)
        emit(service.name, .provisioning)
        // An image's own healthcheck may pass on its init-time server; retry until the real one answers.
        let deadline = clock.now + .seconds(min(timeout, 60))
        while true {
            do {
                let report = try await offCooperativePool {
                    try provisioning.run(target: target, dryRun: false, force: true, policy: .ownServer)
                }
                emit(
                    service.name, .provisioned,
                    report.steps.isEmpty
                        ? "nothing to do"
                        : "\(report.steps.count) statements: " + report.steps.map(\.summary).joined(separator: ", "))
                return
            } catch let error as PostgresError where error.code == .connection && clock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
            } catch let error as PostgresError
                where Self.createdMeanwhile.contains(error.sqlState ?? "") && clock.now < deadline
            {
                // A killed earlier run's CREATE finished on the server after this plan was made:
                // plan again from the catalog as it is now.
                try await Task.sleep(for: .milliseconds(200))
            } catch let error as PostgresError {
                throw ServiceFailure(service: service.name, reason: "could not be provisioned: \(error)")
            } catch let error as DevEnvError {
                throw ServiceFailure(service: service.name, reason: "could not be provisioned: \(error.message)")
            }
        }
    }

    /// SQLSTATEs of an object created by someone else between plan and apply: duplicate
    /// database, duplicate object (a role), and the catalog's unique index (a concurrent create).
    static let createdMeanwhile: Set<String> = ["42P04", "42710", "23505"]

    /// Polls the container until its healthcheck passes or a native probe answers.
    func waitReady(_ service: Service, id: String, timeout: Double, requireCheck: Bool) async throws {
        let hasHealthcheck = service.healthcheck.map { !$0.disabled } ?? false
        let probe = nativeProbe(for: service)
        if requireCheck && probe == nil {
            let image = try? await engine.inspectContainer(id).Config?.Healthcheck
            if !hasHealthcheck && (image?.Test == nil || image?.Test?.first == "NONE") {
                throw ServiceFailure(
                    service: service.name,
                    reason:
                        "has no healthcheck, but a service depends on it with condition service_healthy; add a healthcheck"
                )
            }
        }
        let deadline = clock.now + .seconds(timeout)
        var delay = Duration.milliseconds(50)
        // Podman runs healthchecks from systemd timers, which a machine without a systemd user
        // session (CI, containers, WSL) never fires: devenv runs them itself while it waits.
        let runsChecks = (try? await engine.kind()) == .podman
        let checkEvery = Duration.seconds(min(max(service.healthcheck?.interval ?? 1, 0.5), 2))
        var lastCheck: ContinuousClock.Instant?
        while true {
            try Task.checkCancellation()
            let container = try await engine.inspectContainer(id)
            let state = container.State
            if !state.Running && state.status != .created && state.status != .restarting {
                throw await exitFailure(service, id: id, state: state)
            }
            if runsChecks, state.Running, state.health == .starting,
                lastCheck.map({ clock.now - $0 >= checkEvery }) ?? true
            {
                lastCheck = clock.now
                _ = try? await engine.runHealthcheck(id)
            }
            switch state.health {
            case .healthy: return
            case .unhealthy:
                let output = SecretRule.masking(
                    knownSecrets(),
                    in: state.Health?.Log?.last?.Output?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "")
                throw ServiceFailure(
                    service: service.name, reason: "is unhealthy" + (output.isEmpty ? "" : ": \(output)"),
                    logTail: await logTail(id))
            default: break
            }
            if let probe, state.Running,
                let host = await endpoints.address(of: container, port: probe.port, engine: engine)
            {
                let ready =
                    probe.kind == .postgres
                    ? await ReadinessProbe.postgres(host: host.0, port: host.1)
                    : await ReadinessProbe.redis(host: host.0, port: host.1)
                if ready { return }
            } else if probe == nil && !hasHealthcheck && state.health == .none && state.Running {
                // Nothing to check: running through the settle time is ready.
                try await settle(service, id: id, wasRunning: false)
                return
            }
            guard clock.now < deadline else {
                throw ServiceFailure(
                    service: service.name, reason: "did not become healthy within \(Int(timeout))s",
                    logTail: await logTail(id))
            }
            try await Task.sleep(for: delay)
            // Short waits: a native probe is cheap, and a ready server should not wait long to be seen.
            delay = min(delay * 2, .milliseconds(150))
        }
    }

    func waitCompleted(_ service: Service, id: String, timeout: Double) async throws {
        let result = try await withThrowingTaskGroup(of: ContainerWaitResponse?.self) { group in
            group.addTask { try await self.engine.waitContainer(id, condition: "not-running") }
            group.addTask {
                try await Task.sleep(for: .seconds(timeout))
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let result else {
            throw ServiceFailure(
                service: service.name, reason: "did not complete within \(Int(timeout))s", logTail: await logTail(id))
        }
        if result.StatusCode != 0 {
            throw ServiceFailure(
                service: service.name, reason: "exited with code \(result.StatusCode)", logTail: await logTail(id))
        }
        emit(service.name, .completed)
    }

    func exitFailure(_ service: Service, id: String, state: ContainerState) async -> ServiceFailure {
        let reason: String
        if state.OOMKilled == true {
            reason = "was killed for lack of memory (OOM)"
        } else if let error = state.Error, !error.isEmpty {
            reason = "could not run: \(error)"
        } else {
            reason = "exited with code \(state.ExitCode ?? -1)"
        }
        return ServiceFailure(service: service.name, reason: reason, logTail: await logTail(id))
    }

    /// The last lines a container logged.
    public func logTail(_ id: String, lines: Int = 20) async -> [String] {
        var text = ""
        do {
            for try await frame in try await engine.logs(id, options: DockerClient.LogOptions(tail: lines), tty: false)
            {
                text += frame.text
            }
        } catch {
            return []
        }
        let secrets = knownSecrets()
        return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
            .suffix(lines).map { SecretRule.masking(secrets, in: $0) }
    }

    /// Every secret value of the project: what devenv generated or the file gave (the state
    /// store), and the values of variables named like secrets in the services' environments.
    /// Log tails show a failing service's last lines, and those may quote one (an init script
    /// echoing `ALTER USER … PASSWORD '…'`).
    func knownSecrets() -> [String] { SecretRule.knownSecrets(of: stack, store: store) }

    // MARK: down and status

    /// Stops and removes the project's containers and networks; volumes (and the project's
    /// generated secrets) only with `removeVolumes`.
    public func down(removeVolumes: Bool, timeout: Int? = nil) async throws {
        let containers = try await engine.listContainers(all: true, labels: projectFilter)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for container in containers {
                group.addTask {
                    let name = container.Labels?[ProjectLabel.service] ?? container.Id
                    let grace = timeout.map(Double.init) ?? self.stack.service(name)?.stopGracePeriod
                    if container.status == .running { self.emit(name, .stopping) }
                    try await self.removeContainer(container, timeout: grace)
                    self.emit(name, .removed)
                }
            }
            try await group.waitForAll()
        }
        for network in try await engine.listNetworks(labels: projectFilter) {
            do {
                try await engine.removeNetwork(network.Id)
                emit(nil, .removed, "network \(network.Name)")
            } catch let error as DockerEngineError where error.isNotFound {}
        }
        if removeVolumes {
            for volume in try await engine.listVolumes(labels: projectFilter) {
                do {
                    try await engine.removeVolume(volume.Name, force: false)
                    emit(nil, .removed, "volume \(volume.Name)")
                } catch let error as DockerEngineError where error.isNotFound {}
            }
            try store?.deleteProject(named: stack.name)
        }
        emit(nil, .done)
    }

    /// The project's containers as `devenv status` shows them.
    public func status() async throws -> [ServiceStatus] {
        let containers = try await engine.listContainers(all: true, labels: projectFilter)
        // Health from each running container's state (the list's status text differs between
        // engines: Podman's carries no health at all).
        let health = try await withThrowingTaskGroup(of: (String, String).self) { group in
            for container in containers where container.status == .running {
                group.addTask {
                    let state = try? await self.engine.inspectContainer(container.Id).State
                    return (container.Id, state?.Health?.Status ?? "")
                }
            }
            var found: [String: String] = [:]
            for try await (id, status) in group { found[id] = status }
            return found
        }
        return containers.map { container in
            let health = health[container.Id] ?? ""
            let ports = (container.Ports ?? []).map {
                ServiceStatus.Port(
                    hostIP: $0.IP, hostPort: $0.PublicPort, containerPort: $0.PrivatePort, protocol: $0.Type)
            }.sorted { ($0.containerPort, $0.hostIP ?? "") < ($1.containerPort, $1.hostIP ?? "") }
            let service = container.Labels?[ProjectLabel.service] ?? ""
            return ServiceStatus(
                service: service, container: String(container.Names.first?.dropFirst() ?? ""),
                image: container.Labels?[PostgresInitCache.fromLabel]
                    ?? Self.declaredImage(container.Image, declared: stack.service(service)?.image),
                state: container.State, health: health, ports: ports)
        }.sorted { $0.service < $1.service }
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
