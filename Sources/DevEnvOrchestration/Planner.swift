import DevEnvModel
import DevEnvProvisioning
import DevEnvRuntime
import DevEnvSamples
import DockerEngine
import Foundation
import StateStore

/// What `up` would do to one service, and why (`devenv plan`, `up --dry-run`).
public struct PlanStep: Sendable, Codable, Equatable {
    public enum Action: String, Sendable, Codable {
        case create, recreate, rebuild, start, keep, remove
    }
    public var service: String
    public var action: Action
    /// What changed: variable names (never values), image IDs, build-context paths, parts of
    /// the definition; networks and volumes to create; provisioning still to do.
    public var reasons: [String]

    public init(service: String, action: Action, reasons: [String]) {
        self.service = service
        self.action = action
        self.reasons = reasons
    }
}

/// How a service's image stands before `up`: present as wanted, or to be built or pulled.
struct ImagePlan: Sendable {
    var image: ImageInspect?
    var reasons: [String] = []
    var rebuild: Bool { image == nil && isBuilt }
    var isBuilt = false
}

extension Orchestrator {
    /// What `up` with `options` would do, service by service, in dependency order, then the
    /// orphans; reads the engine and the state store and changes nothing in either: no
    /// container, network, volume, build, pull or secret.
    public func plan(_ options: UpOptions = UpOptions()) async throws -> [PlanStep] {
        let services = try selectedServices(options.services)
        guard let store else { throw DevEnvError("plan needs the state store to read generated values") }
        let existing = try await projectContainers().byService
        let images = try await imagePlans(services, force: options.build)
        var resolver = TemplateResolver(stack: stack, store: store)
        resolver.generates = false
        let (networks, volumes) = try await missingNetworksAndVolumes(services)
        var announced: Set<String> = []

        var steps: [PlanStep] = []
        for service in services {
            let image = images[service.name] ?? ImagePlan()
            let (plan, _) = try containerPlan(service, resolver: resolver, imageID: image.image?.Id)
            var step = try await self.step(service, plan: plan, image: image, current: existing[service.name])
            for network in service.networks.keys.sorted() {
                if let name = networks[network], announced.insert("network \(name)").inserted {
                    step.reasons.append("network \(name) will be created")
                }
            }
            for volume in service.volumes where volume.type == .volume {
                if let source = volume.source, let name = volumes[source], announced.insert("volume \(name)").inserted {
                    step.reasons.append("volume \(name) will be created")
                }
            }
            step.reasons += provisioningPending(service, action: step.action, current: existing[service.name])
            steps.append(step)
        }
        let declared = Set(stack.services.map(\.name))
        let inactive = Set(stack.inactiveServices)
        for name in existing.keys.sorted() where !declared.contains(name) && !inactive.contains(name) {
            steps.append(
                PlanStep(
                    service: name, action: options.removeOrphans ? .remove : .keep,
                    reasons: [
                        options.removeOrphans
                            ? "not in the stack file any more"
                            : "not in the stack file any more; up --remove-orphans removes it"
                    ]))
        }
        return steps
    }

    /// One service's step, from its planned container and the one that exists.
    func step(
        _ service: Service, plan: ContainerPlan, image: ImagePlan, current: ContainerSummary?
    ) async throws
        -> PlanStep
    {
        guard let current else {
            return PlanStep(service: service.name, action: .create, reasons: ["no container yet"] + image.reasons)
        }
        if image.rebuild || current.Labels?[ProjectLabel.configHash] != plan.configHash {
            let reasons =
                image.reasons
                + plan.parts.changes(from: ConfigParts.of(current.Labels)).filter {
                    // Without an image yet, its own reason (built, pulled) says more than the IDs.
                    !(image.image == nil && $0.hasPrefix("image:"))
                }
            return PlanStep(service: service.name, action: image.rebuild ? .rebuild : .recreate, reasons: reasons)
        }
        if current.status == .running {
            return PlanStep(service: service.name, action: .keep, reasons: [])
        }
        if try await completedEarlier(service, current) {
            return PlanStep(service: service.name, action: .keep, reasons: ["completed earlier"])
        }
        return PlanStep(service: service.name, action: .start, reasons: ["it is \(current.State)"])
    }

    /// Each service's image as `ensureImages` would find it, without building or pulling.
    func imagePlans(_ services: [Service], force: Bool) async throws -> [String: ImagePlan] {
        var found: [String: ImagePlan] = [:]
        var resolved: [String: ImagePlan] = [:]
        for service in services {
            let reference = service.imageReference(project: stack.name)
            if let known = resolved[reference] {
                found[service.name] = known
                continue
            }
            var plan = ImagePlan()
            if let build = service.build {
                plan.isBuilt = true
                let (inputs, digest) = await buildInputs(build)
                let present = try await engine.imageIfPresent(reference)
                let builtFrom = present?.Config?.Labels?[ProjectLabel.buildDigest]
                if force {
                    plan.reasons = ["image \(reference) will be rebuilt (--build)"]
                } else if present == nil {
                    plan.reasons = ["image \(reference) will be built"]
                } else if builtFrom == digest {
                    plan.image = present
                } else {
                    // An older store has no record of inputs: the reason is then less precise.
                    let before = builtFrom.flatMap { try? store?.buildInputs(digest: $0) }
                    let changes = before.map { BuildDigest.changes(from: $0, to: inputs) } ?? []
                    plan.reasons =
                        ["image \(reference) will be rebuilt"]
                        + (changes.isEmpty
                            ? ["its build inputs changed (what it was built from was not recorded)"] : changes)
                }
            } else {
                let policy = service.pull
                let present = try await engine.imageIfPresent(reference)
                if policy == .always {
                    plan.reasons = ["image \(reference) will be pulled (pull_policy: always)"]
                } else if let present {
                    plan.image = present
                } else {
                    plan.reasons = [
                        policy == .never
                            ? "image \(reference) is missing and pull_policy is never: up will fail"
                            : "image \(reference) will be pulled"
                    ]
                }
            }
            found[service.name] = plan
            resolved[reference] = plan
        }
        return found
    }

    /// The project's networks and volumes `up` would create: stack name → engine name.
    func missingNetworksAndVolumes(
        _ services: [Service]
    ) async throws -> (
        networks: [String: String], volumes: [String: String]
    ) {
        let (usedNetworks, usedVolumes) = declaredResources(usedBy: services)
        let existingNetworks = Set(try await engine.listNetworks(labels: projectFilter).map(\.Name))
        var networks: [String: String] = [:]
        for network in usedNetworks where !network.external && !existingNetworks.contains(network.engineName) {
            networks[network.name] = network.engineName
        }
        let existingVolumes = Set(try await engine.listVolumes(labels: projectFilter).map(\.Name))
        var volumes: [String: String] = [:]
        for volume in usedVolumes where !volume.external && !existingVolumes.contains(volume.engineName) {
            volumes[volume.name] = volume.engineName
        }
        return (networks, volumes)
    }

    /// Provisioning `up` would still do for the service: everything its `x-devenv` declares
    /// for a new container, nothing for a kept one it already provisioned.
    func provisioningPending(_ service: Service, action: PlanStep.Action, current: ContainerSummary?) -> [String] {
        let postgres = service.devenv?.postgres
        let django = service.devenv?.django
        let seeds = service.devenv?.settings["seed"]
        guard postgres != nil || django != nil || seeds != nil else { return [] }
        if action == .keep || action == .start, let current, let store,
            (try? store.isProvisioned(
                project: stack.name, service: service.name, containerID: current.Id,
                specDigest: Self.provisionDigest(service))) == true
        {
            return []
        }
        var pending: [String] = []
        if let postgres {
            let roles = postgres.roles.map(\.name)
            let databases = postgres.databases.map(\.name)
            var parts: [String] = []
            if !roles.isEmpty { parts.append("roles \(roles.joined(separator: ", "))") }
            if !databases.isEmpty { parts.append("databases \(databases.joined(separator: ", "))") }
            if !parts.isEmpty {
                pending.append("provision: create what is missing of " + parts.joined(separator: "; "))
            }
        }
        if django != nil { pending.append("provision: Django migrations, superuser and site") }
        if let seeds {
            let entries: [JSONValue] = if case .array(let items) = seeds { items } else { [seeds] }
            let names = entries.compactMap { $0.string ?? $0["set"]?.string }
            if !names.isEmpty { pending.append("seed: \(names.joined(separator: ", ")) unless already loaded") }
        }
        return pending
    }
}
