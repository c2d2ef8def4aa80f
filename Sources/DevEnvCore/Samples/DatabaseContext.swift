import DockerEngine
import Foundation
import StateStore

/// Where `seed` and `db` work: a managed server given by URL, or the stack's PostgreSQL
/// container. Snapshots need the admin; loading runs as the database's owner where the file
/// declares one (so the rows belong to the role the app uses).
public struct DatabaseContext: Sendable {
    public var admin: PostgresTarget
    /// The database named by the URL or first declared by the stack.
    public var defaultDatabase: String?
    /// Logins by database, for loading (the owner's); others load as the admin.
    var owners: [String: (user: String, password: String)]

    /// libpq parameters to load into `database`.
    public func loadParameters(database: String) -> [String: String] {
        guard let owner = owners[database] else { return admin.parameters(database: database) }
        return admin.parameters(database: database, user: owner.user, password: owner.password)
    }

    /// Loads `set` into `database` (as its owner) and, when something was loaded and
    /// `snapshot`, snapshots it as `seeded` (as the admin) for `devenv db reset` (`up` takes
    /// that snapshot itself, once the superuser is in). Blocking: run off the cooperative pool.
    public func seed(
        _ set: SampleSet, into database: String, force: Bool, snapshot: Bool = true
    ) throws
        -> SeedReport
    {
        let report = try Seeder(set: set, parameters: loadParameters(database: database)).seed(force: force)
        if snapshot, case .seeded = report.outcome { try snapshotSeeded(database) }
        return report
    }

    /// The `seeded` snapshot `devenv db reset` restores. Blocking.
    public func snapshotSeeded(_ database: String) throws {
        _ = try DatabaseSnapshots(admin: admin).snapshot(database: database, name: DatabaseSnapshots.seededName)
    }

    public static func target(url: String) throws -> DatabaseContext {
        let target = try PostgresTarget(url: url)
        let path = URLComponents(string: url)?.path.trimmingCharacters(in: CharacterSet(charactersIn: "/")) ?? ""
        var admin = target
        admin.admin["dbname"] = nil
        return DatabaseContext(
            admin: admin, defaultDatabase: path.isEmpty || path == "postgres" ? nil : path, owners: [:])
    }

    /// The stack's PostgreSQL service (`name`, or the one with `x-devenv.postgres`, or the
    /// first postgres image), reached at its published port (`HostEndpoints`).
    public static func stack(
        _ stack: Stack, service name: String?, engine: any ContainerEngine, store: StateStore
    ) async throws -> DatabaseContext {
        let resolver = TemplateResolver(stack: stack, store: store)
        let candidates = stack.services.filter {
            $0.isPostgres(project: stack.name)
        }
        guard let service = name.map({ wanted in candidates.first { $0.name == wanted } }) ?? candidates.first else {
            throw OrchestratorError(
                "no PostgreSQL service in the stack\(name.map { " named '\($0)'" } ?? ""); or pass --target URL",
                exitCode: 2)
        }
        let container = try await engine.listContainers(
            all: false, labels: [ProjectLabel.project: stack.name, ProjectLabel.service: service.name]
        ).first
        guard let container else {
            throw OrchestratorError("service '\(service.name)' of \(stack.name) is not running; run 'devenv up' first")
        }
        let inspect = try await engine.inspectContainer(container.Id)
        let endpoints = HostEndpoints(connection: engine.connection)
        guard let (host, port) = await endpoints.address(of: inspect, port: 5432, engine: engine) else {
            throw OrchestratorError(
                "service '\(service.name)' is not reachable from this machine on port 5432; publish it")
        }
        let environment = try resolver.environment(of: service)
        let admin = PostgresTarget(admin: [
            "host": host, "port": String(port), "user": environment["POSTGRES_USER"] ?? "postgres",
            "password": environment["POSTGRES_PASSWORD"] ?? "",
        ])
        var owners: [String: (String, String)] = [:]
        for login in try HostEnvironment.databaseLogins(service, environment: environment, resolver: resolver)
        where login.isDeclared {
            owners[login.database] = (login.user, login.password)
        }
        let first = service.devenv?.postgres?.databases.first?.name ?? environment["POSTGRES_DB"]
        return DatabaseContext(admin: admin, defaultDatabase: first, owners: owners)
    }
}
