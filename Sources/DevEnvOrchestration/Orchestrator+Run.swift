import DevEnvModel
import DevEnvProvisioning
import DevEnvRuntime
import DockerEngine
import Foundation

/// `devenv run SERVICE -- CMD…`: what changes from the service's own container.
public struct RunOptions: Sendable {
    /// Replaces the service's command; `nil` keeps it.
    public var command: [String]?
    /// Replaces the image's entrypoint (and then the command is only `command`).
    public var entrypoint: [String]?
    /// `KEY=VALUE`, over the service's environment.
    public var environment: [String]
    public var user: String?
    public var workingDirectory: String?
    /// Leave the dependencies as they are (they are brought up first otherwise).
    public var noDependencies: Bool
    /// Publish the service's ports (a one-off publishes none, so it never takes the service's).
    public var servicePorts: Bool
    public var tty: Bool
    public var readinessTimeout: Double

    public init(
        command: [String]? = nil, entrypoint: [String]? = nil, environment: [String] = [], user: String? = nil,
        workingDirectory: String? = nil, noDependencies: Bool = false, servicePorts: Bool = false, tty: Bool = false,
        readinessTimeout: Double = 300
    ) {
        self.command = command
        self.entrypoint = entrypoint
        self.environment = environment
        self.user = user
        self.workingDirectory = workingDirectory
        self.noDependencies = noDependencies
        self.servicePorts = servicePorts
        self.tty = tty
        self.readinessTimeout = readinessTimeout
    }
}

/// A one-off container of a service: created, not started.
public struct RunContainer: Sendable, Codable {
    public var service: String
    public var container: String
    public var id: String
}

extension ProjectLabel {
    /// On `devenv run` containers: the service they run. They carry no service label, so `up`,
    /// `exec`, `logs` and `status` never take one for the service's own container; `down`
    /// removes them with the project.
    public static let runOf = "dev.devenv.run-of"
}

extension Orchestrator {
    /// Brings the service's dependencies up (unless told not to), then creates a one-off
    /// container of it: the service's image, environment (`x-devenv` filled in), mounts,
    /// secrets and networks, with `options` over them, stdin open for an attach.
    public func createRunContainer(_ name: String, options: RunOptions) async throws -> RunContainer {
        guard let service = stack.service(name) else {
            let known = stack.services.map(\.name).joined(separator: ", ")
            throw DevEnvError("no service '\(name)' in \(stack.name) (it has \(known))", exitCode: 2)
        }
        let dependencies = service.dependsOn.map(\.service)
        if !options.noDependencies && !dependencies.isEmpty {
            _ = try await up(UpOptions(services: dependencies, readinessTimeout: options.readinessTimeout))
        }
        let images = try await ensureImages([service], force: false)
        try await ensureNetworksAndVolumes([service])
        guard let store else { throw DevEnvError("run needs the state store for generated values") }
        let (servicePlan, _) = try containerPlan(
            service, resolver: TemplateResolver(stack: stack, store: store), imageID: images[service.name]?.Id)
        let plan = servicePlan.attached(to: networkIDs.withLock { $0 })
        let config = Self.runConfig(plan.config, service: service, project: stack.name, options: options)
        let containerName = "\(stack.name)-\(service.name)-run-\(UUID().uuidString.prefix(8).lowercased())"
        let created = try await engine.createContainer(name: containerName, config: config)
        for warning in created.Warnings ?? [] where !warning.isEmpty { emit(service.name, .warning, warning) }
        if !plan.files.isEmpty { try await engine.putArchive(created.Id, path: "/", tar: try plan.filesArchive()) }
        // On the service's networks, without its name as an alias: the name stays the service's.
        for network in plan.extraNetworks {
            try await engine.connectNetwork(network.name, container: created.Id, aliases: [])
        }
        return RunContainer(service: service.name, container: containerName, id: created.Id)
    }

    /// The service's container definition made a one-off's.
    static func runConfig(
        _ base: ContainerConfig, service: Service, project: String, options: RunOptions
    ) -> ContainerConfig {
        var config = base
        if let entrypoint = options.entrypoint {
            config.Entrypoint = entrypoint
            config.Cmd = options.command
        } else if let command = options.command {
            config.Cmd = command
        }
        if !options.environment.isEmpty {
            let overridden = Set(options.environment.map { String($0.split(separator: "=", maxSplits: 1)[0]) })
            config.Env =
                (config.Env ?? []).filter { !overridden.contains(String($0.split(separator: "=", maxSplits: 1)[0])) }
                + options.environment
        }
        if let user = options.user { config.User = user }
        if let directory = options.workingDirectory { config.WorkingDir = directory }
        config.Tty = options.tty
        config.OpenStdin = true
        config.StdinOnce = true
        config.AttachStdin = true
        config.AttachStdout = true
        config.AttachStderr = true
        var labels = config.Labels ?? [:]
        for key in [ProjectLabel.service, ProjectLabel.containerNumber, ProjectLabel.configHash] {
            labels[key] = nil
        }
        labels[ProjectLabel.oneoff] = "True"
        labels[ProjectLabel.runOf] = service.name
        config.Labels = labels
        if var host = config.HostConfig {
            if !options.servicePorts { host.PortBindings = nil }
            // A one-off ends; it is not restarted.
            host.RestartPolicy = nil
            config.HostConfig = host
        }
        if !options.servicePorts { config.ExposedPorts = nil }
        if var networking = config.NetworkingConfig {
            networking.EndpointsConfig = networking.EndpointsConfig?.mapValues { _ in EndpointSettings(aliases: []) }
            config.NetworkingConfig = networking
        }
        return config
    }
}
