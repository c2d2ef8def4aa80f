import DevEnvModel
import DevEnvProvisioning
import DevEnvRuntime
import DevEnvSamples
import DockerEngine
import Foundation
import Platform

/// `provision --target … --migrate`: the stack's migrations against a managed server. Each app
/// service with `x-devenv.django` (migrate) or `x-devenv.migrate` that is wired to the
/// provisioned PostgreSQL service runs once, in a one-off container of its image, with its
/// environment pointed at the server: the service's host and port become the server's, and its
/// `{{ … }}` values are the server's (the secrets scope of the target). On a local Linux
/// engine the container uses the host's network, so it reaches the server exactly as this
/// machine does.
public struct TargetMigration: Sendable {
    let engine: any ContainerEngine
    let stack: Stack
    /// The PostgreSQL service whose `x-devenv.postgres` was provisioned on the server.
    let database: Service
    let target: PostgresTarget
    /// In the server's secrets scope.
    let resolver: TemplateResolver

    public init(
        engine: any ContainerEngine, stack: Stack, database: Service, target: PostgresTarget,
        resolver: TemplateResolver
    ) {
        self.engine = engine
        self.stack = stack
        self.database = database
        self.target = target
        self.resolver = resolver
    }

    /// One service's migration: the commands, in order.
    public struct Plan: Sendable, Equatable {
        public var service: String
        public var commands: [[String]]
    }

    /// The app services that migrate against this database, and what each runs.
    public func plans() -> [Plan] {
        stack.services.compactMap { service -> Plan? in
            guard service.name != database.name, references(service) else { return nil }
            if let command = service.devenv?.migrate { return Plan(service: service.name, commands: [command]) }
            guard let django = service.devenv?.django, django.migrate else { return nil }
            let manage =
                django.manage ?? [
                    "sh", "-c", #"exec "$(command -v python3 || command -v python)" manage.py "$@""#, "manage.py",
                ]
            let aliases = django.migrateDatabases.isEmpty ? [nil] : django.migrateDatabases.map(Optional.some)
            return Plan(
                service: service.name,
                commands: aliases.map { alias in
                    manage + ["migrate", "--noinput"] + (alias.map { ["--database", $0] } ?? [])
                })
        }
    }

    /// Whether the service's environment points at the database service (its name as a host).
    func references(_ service: Service) -> Bool {
        let values = Array(service.environment.values) + Array((service.devenv?.env ?? [:]).values)
        return values.contains {
            $0 == database.name || $0.contains("@\(database.name):") || $0.contains("@\(database.name)/")
        }
            || service.dependsOn.contains { $0.service == database.name }
    }

    /// `environment` pointed at the server: the database service's name as a host becomes the
    /// server's host, its port 5432 the server's port, in plain values and in URLs.
    public static func pointed(
        _ environment: [String: String], at service: String, host: String, port: String, sslmode: String?
    ) -> [String: String] {
        let namesService = environment.values.contains(service)
        var result: [String: String] = [:]
        for (key, value) in environment {
            if value == service {
                result[key] = host
            } else if namesService && key.hasSuffix("_PORT") && value == "5432" {
                result[key] = port
            } else {
                result[key] = value.replacingOccurrences(of: "@\(service):5432", with: "@\(host):\(port)")
                    .replacingOccurrences(of: "@\(service)/", with: "@\(host):\(port)/")
            }
        }
        if let sslmode, result["PGSSLMODE"] == nil { result["PGSSLMODE"] = sslmode }
        return result
    }

    /// Runs every plan; a failure names the service, the command and its last output lines.
    /// Refuses (before running anything) when a password the migrations need is not known here:
    /// the role existed before devenv, and devenv does not guess.
    public func run(progress: @Sendable (String) -> Void) async throws {
        let plans = plans()
        for plan in plans {
            guard let service = stack.service(plan.service) else { continue }
            for (key, template) in service.devenv?.env ?? [:] {
                for reference in Template.references(in: template)
                where reference.service == database.name && reference.path.last == "password"
                    && reference.path.first == "roles"
                {
                    if try resolver.knownValue(reference) == nil {
                        throw DevEnvError(
                            "\(plan.service)'s \(key) needs the password of role \(reference.path.dropFirst().first ?? "?") on the server, which is not known here (the role existed before devenv); adopt it with 'devenv provision --target URL --adopt ROLE', or run the migrations with that role's password yourself"
                        )
                    }
                }
            }
        }
        let orchestrator = Orchestrator(engine: engine, stack: stack, store: resolver.store)
        let images = try await orchestrator.ensureImages(plans.compactMap { stack.service($0.service) }, force: false)
        let local = !HostEndpoints(connection: engine.connection).isRemote && Host.system().name == "Linux"
        for plan in plans {
            guard let service = stack.service(plan.service), let image = images[service.name] else { continue }
            let environment = Self.pointed(
                try resolver.environment(of: service), at: database.name, host: target.admin["host"] ?? "localhost",
                port: target.admin["port"] ?? "5432", sslmode: target.admin["sslmode"])
            for command in plan.commands {
                progress("\(plan.service): \(command.suffix(4).joined(separator: " "))")
                var config = ContainerConfig(image: image.Id)
                config.Cmd = command
                config.Entrypoint = service.entrypoint ?? []
                config.Env = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                config.WorkingDir = service.workingDir
                config.User = service.user
                config.Labels = [
                    ProjectLabel.project: stack.name, ProjectLabel.service: service.name,
                    "dev.devenv.oneoff": "migrate",
                ]
                var host = HostConfig()
                if local { host.NetworkMode = "host" }
                config.HostConfig = host
                let name = "\(stack.name)-\(service.name)-migrate-\(UUID().uuidString.prefix(6).lowercased())"
                let id = try await engine.createContainer(name: name, config: config).Id
                do {
                    try await orchestrator.startContainer(id)
                    let result = try await engine.waitContainer(id, condition: "not-running")
                    if result.StatusCode != 0 {
                        let tail = await orchestrator.logTail(id, lines: 15)
                        throw ServiceFailure(
                            service: service.name,
                            reason: "migrations on the server failed with exit code \(result.StatusCode)", logTail: tail
                        )
                    }
                } catch {
                    try? await engine.removeContainer(id, force: true, volumes: true)
                    throw error
                }
                try? await engine.removeContainer(id, force: true, volumes: true)
            }
        }
    }
}
