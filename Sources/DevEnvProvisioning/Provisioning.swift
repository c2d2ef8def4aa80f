import DevEnvModel
import DevEnvRuntime
import Foundation
import Postgres
import StateStore

/// What a provisioning run did (or, with `--dry-run`, would do).
public struct ProvisionReport: Sendable {
    public var service: String
    public var steps: [ProvisionStep]
    /// What differs from the file and was left alone.
    public var drift: [ProvisionDrift]
    public var applied: Bool
    /// Things the user should know that are not statements (`admin.change_password` moved).
    public var notes: [String]
}

/// Provisioning of one service's `x-devenv.postgres`, in its container or on a managed server.
public struct PostgresProvisioning: Sendable {
    public let service: Service
    public let spec: PostgresSpec
    let resolver: TemplateResolver

    public init(service: Service, spec: PostgresSpec, resolver: TemplateResolver) {
        self.service = service
        self.spec = spec
        self.resolver = resolver
    }

    /// The service of the stack that carries `x-devenv.postgres` (`name`, or the only one).
    public static func select(
        in stack: Stack, service name: String?, resolver: TemplateResolver
    ) throws -> PostgresProvisioning {
        let candidates = stack.services.filter { $0.devenv?.postgres != nil }
        let chosen: Service?
        if let name {
            chosen = candidates.first { $0.name == name }
            if chosen == nil {
                throw DevEnvError("service '\(name)' has no x-devenv.postgres block to provision", exitCode: 2)
            }
        } else if candidates.count == 1 {
            chosen = candidates[0]
        } else if candidates.isEmpty {
            throw DevEnvError("no service of the stack has an x-devenv.postgres block", exitCode: 2)
        } else {
            throw DevEnvError(
                "several services have x-devenv.postgres (\(candidates.map(\.name).joined(separator: ", "))); pick one with --service",
                exitCode: 2)
        }
        return PostgresProvisioning(service: chosen!, spec: chosen!.devenv!.postgres!, resolver: resolver)
    }

    /// Each login role's password, made only when provisioning sets one: given in the file, or
    /// generated once and kept in the resolver's scope.
    public var rolePasswords: RolePasswords {
        let (resolver, service) = (self.resolver, self.service)
        @Sendable func reference(_ role: String) -> Template.Reference {
            Template.Reference(service: service.name, path: ["roles", role, "password"])
        }
        return RolePasswords(
            known: { role in try resolver.knownValue(reference(role)) },
            password: { role in try resolver.resolve(reference(role)) })
    }

    public func adminPassword() throws -> String {
        try resolver.resolve(Template.Reference(service: service.name, path: ["admin", "password"]))
    }

    /// Plans (and unless `dryRun`, applies) against `target`. Everything is checked first —
    /// the admin's privileges, undeclared data (refused unless `force`), drift — so a refused
    /// run changes nothing. On a managed server nothing that exists is altered except roles
    /// devenv manages there and those `policy` adopts. Blocking: call it off the cooperative pool.
    public func run(
        target: PostgresTarget, dryRun: Bool, force: Bool, policy: ProvisionPolicy
    ) throws
        -> ProvisionReport
    {
        var target = target
        var notes: [String] = []
        if policy != .ownServer {
            // A password rotated here (secrets rotate-admin) wins over the URL's, which still holds the old one.
            if let stored = try AdminRotation.stored(for: target, in: resolver.store) {
                target.admin["password"] = stored
            }
            if spec.admin?.changePassword == true {
                notes.append(
                    "admin.change_password: provision never changes the admin password; rotate it with 'devenv secrets rotate-admin --target URL'"
                )
            }
        }
        let provisioner = PostgresProvisioner(
            spec: spec, target: target, passwords: rolePasswords, policy: policy)
        defer { provisioner.close() }
        if policy != .ownServer && !force {
            let undeclared = try provisioner.undeclaredNonEmptyDatabases()
            if !undeclared.isEmpty {
                throw DevEnvError(
                    "the target holds databases with data that the stack file does not declare (\(undeclared.joined(separator: ", "))): it looks like a source of truth, not a fresh instance; nothing was changed; pass --force to provision it anyway"
                )
            }
        }
        let plan = try provisioner.plan()
        if !dryRun { try provisioner.apply(plan) }
        return ProvisionReport(
            service: service.name, steps: plan.steps, drift: plan.drift, applied: !dryRun, notes: notes)
    }
}

extension TemplateResolver {
    /// Variables devenv sets on a service because of its `x-devenv` blocks, unless the file
    /// sets them: the admin account of a provisioned PostgreSQL, the password of a Redis.
    func impliedEnvironment(of service: Service) throws -> [String: String] {
        var implied: [String: String] = [:]
        if let postgres = service.devenv?.postgres {
            implied["POSTGRES_PASSWORD"] = try resolve(
                Template.Reference(service: service.name, path: ["admin", "password"]))
            if let user = postgres.admin?.user { implied["POSTGRES_USER"] = user }
        }
        if let redis = service.devenv?.redis, redis.password != nil {
            let password = try resolve(Template.Reference(service: service.name, path: ["password"]))
            implied["REDIS_PASSWORD"] = password
            implied["REDISCLI_AUTH"] = password  // so `redis-cli ping` healthchecks work unchanged
        }
        return implied
    }

    /// `{{ SERVICE.url }}`, `{{ SERVICE.urls.NAME }}`: in-network URLs of Redis databases and
    /// PostgreSQL databases (as their owner); `nil` when the path is not one of these.
    func serviceURL(_ reference: Template.Reference, in service: Service) throws -> String? {
        let path = reference.path
        if let redis = service.devenv?.redis, path == ["url"] || (path.count == 2 && path[0] == "urls") {
            let number = path.count == 2 ? redis.databases[path[1]] : 0
            guard let number else {
                throw Failure(
                    message: "{{ \(reference.key) }}: \(service.name) declares no Redis database '\(path[1])'")
            }
            let auth =
                try redis.password.map { _ in
                    ":\(try resolve(Template.Reference(service: service.name, path: ["password"])))@"
                } ?? ""
            return "redis://\(auth)\(service.name):6379/\(number)"
        }
        if let postgres = service.devenv?.postgres, path.count == 2, path[0] == "urls" {
            guard let database = postgres.databases.first(where: { $0.name == path[1] }) else {
                throw Failure(message: "{{ \(reference.key) }}: \(service.name) declares no database '\(path[1])'")
            }
            let owner = database.owner ?? postgres.admin?.user ?? "postgres"
            let ownerPath = database.owner == nil ? ["admin", "password"] : ["roles", owner, "password"]
            let password = try resolve(Template.Reference(service: service.name, path: ownerPath))
            return
                "postgresql://\(HostEnvironment.escape(owner)):\(HostEnvironment.escape(password))@\(service.name):5432/\(HostEnvironment.escape(database.name))"
        }
        return nil
    }
}
