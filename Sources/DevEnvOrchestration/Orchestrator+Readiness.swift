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

// Readiness, provisioning and seeding on up.
extension Orchestrator {
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
            // The engine's answer describes some moment after it was asked: only an answer asked
            // for after the deadline shows the container running through it (a loaded or remote
            // engine can take longer than the settle time to answer).
            let asked = clock.now
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
            if state.health == .healthy || (state.Running && asked >= deadline) { return }
            restarts = restarts ?? container.RestartCount ?? 0
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Ready means: healthy (or running, when nothing can be checked), then provisioned — its
    /// PostgreSQL roles and databases, its Django migrations, superuser and site.
    func becomeReady(_ service: Service, id: String, timeout: Double, requireCheck: Bool, seed: Bool) async throws {
        // Provisioned into this very container with this very spec: nothing can be missing
        // unless someone removed it by hand (`devenv provision` checks the catalog again).
        let digest = Self.provisionDigest(service)
        guard let store,
            service.devenv?.postgres != nil || service.devenv?.django != nil || service.devenv?.settings["seed"] != nil,
            (try? store.isProvisioned(
                project: stack.name, service: service.name, containerID: id, specDigest: digest)) != true
        else {
            try await waitReady(service, id: id, timeout: timeout, requireCheck: requireCheck)
            return
        }
        let resolver = TemplateResolver(stack: stack, store: store)
        let django = service.devenv?.django.map {
            DjangoProvisioning(engine: engine, service: service, spec: $0, resolver: resolver, containerID: id)
        }
        let superuserPassword = try django?.superuserPassword()
        // A warm restore touches only the database service (provisioned before this one
        // started): it runs while the app's own check waits.
        let early: Task<WarmOutcome, any Error>? =
            django != nil && service.devenv?.postgres == nil
            ? Task {
                try await self.warmRestore(
                    service, id: id, resolver: resolver, seed: seed, password: superuserPassword, store: store)
            } : nil
        do {
            try await waitReady(service, id: id, timeout: timeout, requireCheck: requireCheck)
        } catch {
            _ = try? await early?.value
            throw error
        }
        if let spec = service.devenv?.postgres {
            try await provisionPostgres(service, spec: spec, id: id, resolver: resolver, timeout: timeout)
        }
        // Migrations, then the sample data into the empty tables, then the superuser and site;
        // the `seeded` snapshot last, so `devenv db reset` keeps the superuser.
        var warm = try await early?.value ?? WarmOutcome()
        if early == nil, django != nil {
            warm = try await warmRestore(
                service, id: id, resolver: resolver, seed: seed, password: superuserPassword, store: store)
        }
        if let plan = warm.plan, let record = warm.record, let django {
            if warm.superuserPending {
                try await django.setSuperuserPassword(try await django.manageCommand())
                try await snapshotWarm(plan, record: record, store: store)
            }
            emit(service.name, .provisioned, "django")
            try markProvisioned(service, id: id, digest: digest, store: store)
            return
        }
        // One lookup of how to run manage.py (an exec in the container) serves both steps.
        let manage = try await django?.manageCommand() ?? []
        try await django?.migrate(manage) { self.emit(service.name, .provisioning, $0) }
        var seeded: [(DatabaseContext, String)] = []
        if seed {
            for set in Self.seedEntries(service) {
                if let loaded = try await seedOnUp(service, seed: set, resolver: resolver, store: store) {
                    seeded.append(loaded)
                }
            }
        }
        var superuserRow: SuperuserRow?
        if let django {
            superuserRow = try await django.finish(manage) { self.emit(service.name, .provisioning, $0) }
            emit(service.name, .provisioned, "django")
        }
        for (context, database) in seeded {
            try await offCooperativePool { try context.snapshotSeeded(database, force: true) }
        }
        // Skipped seeding (`--no-seed`) is not done: the next `up` without the flag seeds.
        if !seed && service.devenv?.settings["seed"] != nil { return }
        if let plan = warm.plan {
            await saveWarm(
                plan, service: service, seeded: seeded.map(\.1), superuser: superuserPassword,
                superuserRow: superuserRow)
        }
        try markProvisioned(service, id: id, digest: digest, store: store)
    }

    func markProvisioned(_ service: Service, id: String, digest: String, store: StateStore) throws {
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
        guard let directory = seedDirectory(seed) else {
            throw ServiceFailure(
                service: service.name, reason: "x-devenv.seed must be a path or {set: PATH, database: NAME}")
        }
        let set: SampleSet
        do {
            set = try SampleSet(directory: directory)
        } catch let error as DevEnvError {
            throw ServiceFailure(service: service.name, reason: "cannot be seeded: \(error.message)")
        }
        let environment = try resolver.environment(of: service)
        let databaseService = service.devenv?.postgres != nil ? service.name : Self.databaseHost(environment)
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

    /// `x-devenv.seed` as its entries: a list, or one entry alone.
    static func seedEntries(_ service: Service) -> [JSONValue] {
        switch service.devenv?.settings["seed"] {
        case .array(let items)?: items
        case let entry?: [entry]
        case nil: []
        }
    }

    /// A seed entry's sample set directory (`PATH` or `{set: PATH}`, relative to the stack's
    /// directory); nil when the entry names none.
    func seedDirectory(_ entry: JSONValue) -> String? {
        guard let path = entry.string ?? entry["set"]?.string else { return nil }
        return path.hasPrefix("/") ? path : (stack.workingDirectory as NSString).appendingPathComponent(path)
    }

    /// The service an app's database settings name (`DJANGO_DATABASE_HOST`, else `POSTGRES_HOST`).
    static func databaseHost(_ environment: [String: String]) -> String? {
        environment["DJANGO_DATABASE_HOST"] ?? environment["POSTGRES_HOST"]
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
}
