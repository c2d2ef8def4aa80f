import DevEnvModel
import DevEnvProvisioning
import DevEnvRuntime
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

    /// A managed server (`--target`), rather than the stack's own container.
    public var isTarget = false

    /// Loads `set` into `database` (as its owner): the outcome is what was committed. Snapshots
    /// are a separate step (`snapshotSeeded`). Blocking: run off the cooperative pool.
    public func seed(_ set: SampleSet, into database: String, force: Bool) throws -> SeedReport {
        // On a server, an admin that is not a superuser loads as the tables' owner (Seeder).
        try Seeder(set: set, parameters: loadParameters(database: database), actAsOwner: isTarget).seed(force: force)
    }

    /// The `seeded` snapshot `devenv db reset` restores. Other sessions on the database are
    /// refused, or with `force` ended (`up` does that to its own stack's clients). Blocking.
    public func snapshotSeeded(_ database: String, force: Bool) throws {
        _ = try DatabaseSnapshots(admin: admin).snapshot(
            database: database, name: DatabaseSnapshots.seededName, force: force)
    }

    /// Sessions on `database` other than devenv's own, as `user@address (application)`.
    public func otherSessions(on database: String) throws -> [String] {
        let snapshots = DatabaseSnapshots(admin: admin)
        let db = try snapshots.connect(avoiding: database)
        defer { db.close() }
        return try snapshots.otherSessions(db, database)
    }

    /// A managed server: the URL's database is where the admin connects and what `seed` and
    /// `db` work on by default.
    public static func target(url: String) throws -> DatabaseContext {
        var admin = try PostgresTarget(url: url)
        admin.admin["dbname"] = nil
        let database = admin.database.flatMap { $0 == "postgres" ? nil : $0 }
        var context = DatabaseContext(admin: admin, defaultDatabase: database, owners: [:])
        context.isTarget = true
        return context
    }

    /// The stack's PostgreSQL service (`name`, or the one with `x-devenv.postgres`, or the
    /// first postgres image), reached at its published port (`HostEndpoints`).
    public static func stack(
        _ stack: Stack, service name: String?, engine: any ContainerEngine, store: StateStore
    ) async throws -> DatabaseContext {
        let resolver = TemplateResolver(stack: stack, store: store)
        let service = try stack.postgresService(named: name, orElse: "; or pass --target URL")
        let container = try await engine.listContainers(
            all: false, labels: [ProjectLabel.project: stack.name, ProjectLabel.service: service.name]
        ).first
        guard let container else {
            throw DevEnvError("service '\(service.name)' of \(stack.name) is not running; run 'devenv up' first")
        }
        let inspect = try await engine.inspectContainer(container.Id)
        let endpoints = HostEndpoints(connection: engine.connection)
        guard let (host, port) = await endpoints.address(of: inspect, port: 5432, engine: engine) else {
            throw DevEnvError(
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

extension Stack {
    /// The PostgreSQL service named `name`, or the stack's first; an error (exit 2) naming
    /// what is missing, followed by `orElse` (the caller's alternative), when there is none.
    public func postgresService(named name: String?, orElse alternative: String = "") throws -> Service {
        let candidates = services.filter { $0.kind == .postgres }
        guard let service = name.map({ wanted in candidates.first { $0.name == wanted } }) ?? candidates.first else {
            throw DevEnvError(
                "no PostgreSQL service in the stack\(name.map { " named '\($0)'" } ?? "")\(alternative)", exitCode: 2)
        }
        return service
    }
}

/// What `devenv psql` connects with: the database's owner at the service's published port.
public enum PsqlSession {
    /// `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD` and `PGDATABASE` for `database` (else the
    /// first declared one) of the stack's PostgreSQL service `service` (else its first).
    public static func environment(
        stack: Stack, service name: String?, database: String?, engine: any ContainerEngine, store: StateStore
    ) async throws -> [String: String] {
        let resolver = TemplateResolver(stack: stack, store: store)
        let service = try stack.postgresService(named: name)
        let logins = try HostEnvironment.databaseLogins(
            service, environment: try resolver.environment(of: service), resolver: resolver)
        guard let login = database.map({ wanted in logins.first { $0.database == wanted } }) ?? logins.first else {
            throw DevEnvError(
                "service '\(service.name)' declares no database '\(database ?? "")' (it has: \(logins.map(\.database).joined(separator: ", ")))",
                exitCode: 2)
        }
        let container = try await engine.listContainers(
            all: false, labels: [ProjectLabel.project: stack.name, ProjectLabel.service: service.name]
        ).first
        guard let container, let (host, port) = HostEndpoints(connection: engine.connection).published(container, 5432)
        else {
            throw DevEnvError(
                "service '\(service.name)' is not running with port 5432 published; run 'devenv up' (and publish \"5432\")"
            )
        }
        return [
            "PGHOST": host, "PGPORT": String(port), "PGUSER": login.user, "PGPASSWORD": login.password,
            "PGDATABASE": login.database,
        ]
    }
}
