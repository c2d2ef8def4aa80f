import DevEnvModel
import DevEnvProvisioning
import DevEnvRuntime
import DevEnvSamples
import DockerEngine
import Foundation
import Postgres
import StateStore

// A warm `up` (WarmDatabaseCache): a Django service's databases restored, not migrated and
// seeded again, when everything that shapes them is what it was.

extension Orchestrator {
    /// Where a Django service's databases live and the entry that would hold them.
    struct WarmPlan: Sendable {
        var cache: WarmDatabaseCache
        var key: String
        var databaseService: String
        /// The PostgreSQL service's container and its admin, for `pg_dump`/`pg_restore` inside it.
        var databaseContainer: String
        var adminEnvironment: [String]
        var databases: [String]
    }

    /// The plan for `service` (run in container `id`), or nil when the cache does not apply: it
    /// is off, the service does not migrate, its database is not a PostgreSQL service of this
    /// stack with declared databases (a `--target` server belongs to someone else), that
    /// service seeds on its own, `--no-seed` was asked, or its bind mounts are too big to hash.
    func warmPlan(_ service: Service, id: String, resolver: TemplateResolver, seed: Bool) async -> WarmPlan? {
        guard WarmDatabaseCache.enabled, let store, let django = service.devenv?.django, django.migrate,
            seed || service.devenv?.settings["seed"] == nil,
            let environment = try? resolver.environment(of: service),
            let host = Self.databaseHost(environment),
            let database = stack.service(host), database.kind == .postgres,
            let spec = database.devenv?.postgres, !spec.databases.isEmpty,
            database.devenv?.settings["seed"] == nil,
            let databaseContainer = try? await engine.listContainers(
                all: false, labels: [ProjectLabel.project: stack.name, ProjectLabel.service: database.name]
            ).first,
            let databaseImage = await Self.baseImage(of: databaseContainer, engine: engine),
            let appImage = try? await engine.inspectContainer(id).Image
        else { return nil }
        let mounts = service.volumes.compactMap { mount -> (source: String, target: String)? in
            guard mount.type == .bind, let source = mount.source else { return nil }
            return (source, mount.target)
        }
        guard let migrations = WarmDatabaseCache.migrationDigest(of: mounts) else { return nil }
        var sampleSets: [String] = []
        for entry in Self.seedEntries(service) {
            guard let directory = seedDirectory(entry), let set = try? SampleSet(directory: directory) else {
                return nil
            }
            sampleSets.append(set.manifestDigest)
        }
        let databaseEnvironment = (try? resolver.environment(of: database)) ?? [:]
        let key = WarmDatabaseCache.Key(
            databaseImage: databaseImage, databaseSpec: spec,
            databaseEnvironment: database.environment.filter { !$0.key.hasSuffix("PASSWORD") },
            appImage: appImage, appSpec: django, appEnvironment: service.environment,
            appTemplates: service.devenv?.env ?? [:], workingDir: service.workingDir, mountedMigrations: migrations,
            seed: service.devenv?.settings["seed"], sampleSets: sampleSets, databases: spec.databases.map(\.name))
        let admin = [
            "PGUSER=\(databaseEnvironment["POSTGRES_USER"] ?? "postgres")",
            "PGPASSWORD=\(databaseEnvironment["POSTGRES_PASSWORD"] ?? "")",
        ]
        let plan = WarmPlan(
            cache: WarmDatabaseCache(statePath: store.path), key: key.digest, databaseService: database.name,
            databaseContainer: databaseContainer.Id,
            adminEnvironment: admin, databases: spec.databases.map(\.name))
        // Only fresh databases are restored into, or stored from: never a developer's own rows.
        guard
            let check = try? await engine.exec(
                container: plan.databaseContainer,
                config: ExecConfig(cmd: ["sh", "-c", Self.warmEmptyCheck, "sh"] + plan.databases, env: admin)),
            check.exitCode == 0
        else { return nil }
        return plan
    }

    /// The ID of the image a container runs, or, for one made from an initialized-cluster image
    /// (PostgresInitCache), of the image that one was made from: the same databases either way.
    static func baseImage(of container: ContainerSummary, engine: any ContainerEngine) async -> String? {
        guard let image = container.ImageID else { return nil }
        guard container.Labels?[PostgresInitCache.keyLabel] != nil else { return image }
        return (try? await engine.imageIfPresent(image))??.Config?.Labels?[PostgresInitCache.baseLabel]
    }

    /// Exits `warmNotEmpty` when one of the databases (arguments) holds a table, view or sequence.
    static let warmEmptyCheck = """
        for db in "$@"; do
          n=$(psql -XtAq -d "$db" -c "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'") || exit 1
          [ "$n" = 0 ] || exit \(warmNotEmpty)
        done
        """

    /// Exit code of the restore script when a database already holds tables: not a fresh cluster.
    static let warmNotEmpty = 75

    /// Restores the plan's entry into empty databases; its record when it did. A database that
    /// already holds tables, a missing entry, or a failed restore leaves the real thing to run
    /// (a failure with a warning that says so).
    func restoreWarm(_ plan: WarmPlan, service: Service) async -> WarmDatabaseCache.Record? {
        guard let (record, tar) = plan.cache.entry(plan.key), record.databases == plan.databases else { return nil }
        emit(service.name, .provisioning, "restore \(record.databases.count) databases from the warm cache")
        // Every database is checked empty again (another `up` may have raced this one) before
        // any is restored; each restore is one transaction.
        let script = """
            d=/tmp/devenv-warm
            trap 'rm -rf "$d"' EXIT
            \(Self.warmEmptyCheck)
            set -e
            i=0
            for db in "$@"; do
              pg_restore --exit-on-error --single-transaction --no-password -d "$db" "$d/$i.dump"
              i=$((i + 1))
            done
            """
        do {
            try await engine.putArchive(plan.databaseContainer, path: "/tmp", tar: tar)
            let result = try await engine.exec(
                container: plan.databaseContainer,
                config: ExecConfig(cmd: ["sh", "-c", script, "sh"] + record.databases, env: plan.adminEnvironment))
            if result.exitCode == Self.warmNotEmpty { return nil }
            guard result.exitCode == 0 else {
                emit(
                    service.name, .warning,
                    "the warm cache did not restore (\(Self.lastError(result))); migrating and seeding instead")
                return nil
            }
        } catch {
            emit(service.name, .warning, "the warm cache did not restore (\(error)); migrating and seeding instead")
            return nil
        }
        emit(service.name, .provisioned, "restored \(record.databases.joined(separator: ", ")) from the warm cache")
        return record
    }

    /// Dumps the plan's databases into a new entry, after a real migrate and seed. A failure
    /// costs only the next warm `up`: a warning, never a failed `up`.
    func saveWarm(
        _ plan: WarmPlan, service: Service, seeded: [String], superuser: String?, superuserRow: SuperuserRow?
    ) async {
        let script = """
            set -e
            d=/tmp/devenv-warm
            rm -rf "$d"; mkdir -p "$d"
            trap 'rm -rf "$d"' EXIT
            i=0
            for db in "$@"; do
              pg_dump -Fc --no-password -f "$d/$i.dump" "$db"
              i=$((i + 1))
            done
            tar -C /tmp -cf - devenv-warm
            """
        do {
            let result = try await engine.exec(
                container: plan.databaseContainer,
                config: ExecConfig(cmd: ["sh", "-c", script, "sh"] + plan.databases, env: plan.adminEnvironment))
            guard result.exitCode == 0, !result.stdout.isEmpty else {
                emit(service.name, .warning, "the warm cache was not stored: \(Self.lastError(result))")
                return
            }
            let record = WarmDatabaseCache.Record(
                format: WarmDatabaseCache.format, key: plan.key, databases: plan.databases, seeded: seeded,
                superuser: superuser.map { WarmDatabaseCache.fingerprint(key: plan.key, password: $0) },
                superuserRow: superuser == nil ? nil : superuserRow, project: stack.name, service: service.name,
                created: Date())
            try plan.cache.store(record, tar: result.stdout)
        } catch {
            emit(service.name, .warning, "the warm cache was not stored: \(error)")
        }
    }

    /// What a warm `up` did before the app was ready: the plan (nil: the cache does not
    /// apply), the restored entry (nil: migrate and seed), and whether the superuser still
    /// needs this project's password through Django.
    struct WarmOutcome: Sendable {
        var plan: WarmPlan?
        var record: WarmDatabaseCache.Record?
        var superuserPending = false
    }

    /// The plan, the restore, the superuser's password by one `UPDATE` when the entry says
    /// where its row is, and the `seeded` snapshots `db reset` restores: all of it on the
    /// database's side, so it runs while the app container starts (its own healthcheck may wait
    /// for nothing else). A snapshot that fails fails the service, as after a real seed.
    func warmRestore(
        _ service: Service, id: String, resolver: TemplateResolver, seed: Bool, password: String?,
        store: StateStore
    ) async throws -> WarmOutcome {
        guard let plan = await warmPlan(service, id: id, resolver: resolver, seed: seed) else { return WarmOutcome() }
        guard let record = await restoreWarm(plan, service: service) else { return WarmOutcome(plan: plan) }
        var outcome = WarmOutcome(plan: plan, record: record)
        if let password, record.superuser != WarmDatabaseCache.fingerprint(key: plan.key, password: password) {
            if let row = record.superuserRow, await setSuperuserPassword(plan, row: row, password: password) {
                emit(service.name, .provisioning, "superuser password of this project, set in \(row.table)")
            } else {
                emit(service.name, .provisioning, "superuser password of this project, through manage.py")
                outcome.superuserPending = true
            }
        }
        // The snapshots hold the superuser as it is: after Django set its password, if it must.
        if !outcome.superuserPending { try await snapshotWarm(plan, record: record, store: store) }
        return outcome
    }

    /// The `seeded` snapshots of a restored entry's databases, as after a real seed.
    func snapshotWarm(_ plan: WarmPlan, record: WarmDatabaseCache.Record, store: StateStore) async throws {
        guard !record.seeded.isEmpty else { return }
        let context = try await DatabaseContext.stack(
            stack, service: plan.databaseService, engine: engine, store: store)
        for database in record.seeded {
            try await offCooperativePool { try context.snapshotSeeded(database, force: true) }
        }
    }

    /// Gives the restored superuser `password`, hashed here as the project's Django would
    /// (`SuperuserRow.hash`), with one `UPDATE` of its row; false when the hasher is not one
    /// devenv computes or the row is not where the entry said (then Django sets it).
    func setSuperuserPassword(_ plan: WarmPlan, row: SuperuserRow, password: String) async -> Bool {
        guard let hash = row.hash(password) else { return false }
        // Values as psql variables (quoted by psql), never in the statement's text.
        let script = """
            out=$(printf '%s\n' 'UPDATE :"table" SET :"password_column" = :'"'hash'"' WHERE :"username_column" = :'"'username'"';' \
              | psql -X -v ON_ERROR_STOP=1 --no-password -d "$1" -v table="$2" -v password_column="$3" \
                  -v username_column="$4" -v username="$5" -v hash="$DEVENV_HASH") || exit 1
            [ "$out" = "UPDATE 1" ]
            """
        let result = try? await engine.exec(
            container: plan.databaseContainer,
            config: ExecConfig(
                cmd: [
                    "sh", "-c", script, "sh", row.database, row.table, row.passwordColumn, row.usernameColumn,
                    row.username,
                ],
                env: plan.adminEnvironment + ["DEVENV_HASH=\(hash)"]))
        return result?.exitCode == 0
    }

    /// What a failed script said last, or its exit code.
    static func lastError(_ result: ExecResult) -> String {
        result.stderrText.split(separator: "\n").last.map(String.init) ?? "exit code \(result.exitCode)"
    }
}
