import Foundation

/// A validated, interpolated, normalized stack: what `devenv config` prints and what `up`
/// converges the engine to. Coding keys are Compose's, so the output reads as a Compose file.
public struct Stack: Sendable, Codable, Equatable {
    public var name: String
    public var services: [Service]
    public var volumes: [NamedVolume]
    public var networks: [NamedNetwork]
    /// The directory relative paths are resolved against (the first file's).
    public var workingDirectory: String
    public var files: [String]
    /// Services the files declare under profiles that are not enabled: not started, and not
    /// orphans either.
    public var inactiveServices: [String] = []
    /// Where variables were written, for messages: `SERVICE.environment.KEY` (environment,
    /// env_file and x-devenv.env) → file:line:col. Not part of the Compose output.
    public var locations: [String: SourceLocation] = [:]
    /// Top-level `secrets:` and `configs:`: files devenv puts into the containers that name them.
    public var secrets: [FileSource] = []
    public var configs: [FileSource] = []

    /// Where `key` of `service`'s environment was written, if known.
    public func location(ofVariable key: String, in service: String) -> SourceLocation? {
        locations["\(service).environment.\(key)"]
    }

    public init(
        name: String, services: [Service], volumes: [NamedVolume], networks: [NamedNetwork], workingDirectory: String,
        files: [String], inactiveServices: [String] = []
    ) {
        self.inactiveServices = inactiveServices
        self.name = name
        self.services = services
        self.volumes = volumes
        self.networks = networks
        self.workingDirectory = workingDirectory
        self.files = files
    }

    public func service(_ name: String) -> Service? { services.first { $0.name == name } }

    func with(locations: [String: SourceLocation]) -> Stack {
        var copy = self
        copy.locations = locations
        return copy
    }

    enum CodingKeys: String, CodingKey {
        case name, services, volumes, networks, secrets, configs
        case workingDirectory = "x-devenv-working-dir"
        case files = "x-devenv-files"
    }
}

public struct NamedVolume: Sendable, Codable, Equatable {
    public var name: String
    /// Managed outside devenv: used as is, never created or removed.
    public var external: Bool
    /// The engine's name (`<project>_<name>` unless `name:` or external says otherwise).
    public var engineName: String
    public var labels: [String: String]

    enum CodingKeys: String, CodingKey {
        case name, external, labels
        case engineName = "x-devenv-engine-name"
    }
}

public struct NamedNetwork: Sendable, Codable, Equatable {
    public var name: String
    public var external: Bool
    public var engineName: String
    public var driver: String?

    enum CodingKeys: String, CodingKey {
        case name, external, driver
        case engineName = "x-devenv-engine-name"
    }
}

public struct Service: Sendable, Codable, Equatable {
    public var name: String
    public var image: String?
    public var build: Build?
    public var command: [String]?
    public var entrypoint: [String]?
    /// Resolved environment (env_file first, then `environment:`), sorted by key.
    public var environment: [String: String]
    public var ports: [PortMapping]
    public var expose: [String]
    public var volumes: [VolumeMount]
    public var dependsOn: [Dependency]
    public var healthcheck: Healthcheck?
    public var profiles: [String]
    public var restart: String?
    public var workingDir: String?
    public var user: String?
    public var labels: [String: String]
    public var pullPolicy: String?
    public var containerName: String?
    public var hostname: String?
    public var stopSignal: String?
    /// Seconds.
    public var stopGracePeriod: Double?
    public var tty: Bool
    public var stdinOpen: Bool
    public var initProcess: Bool?
    public var extraHosts: [String]
    /// Network name → aliases; the project's default network when the file names none.
    public var networks: [String: [String]]
    public var devenv: DevenvExtension?

    // What the engine applies to the container as written: privileges, limits, namespaces.
    public var capAdd: [String]?
    public var capDrop: [String]?
    public var securityOpt: [String]?
    /// Name (`nofile`) → soft and hard limits.
    public var ulimits: [String: ULimitRange]?
    public var sysctls: [String: String]?
    /// Bytes.
    public var shmSize: Int64?
    /// `PATH[:OPTIONS]`, options as mount(8) takes them (`size=64m,mode=1777`).
    public var tmpfs: [String]?
    /// `HOST[:CONTAINER[:PERMISSIONS]]`.
    public var devices: [String]?
    public var ipc: String?
    public var pid: String?
    public var privileged: Bool?
    /// Bytes: `mem_limit`, or `deploy.resources.limits.memory`.
    public var memLimit: Int64?
    /// `cpus`, or `deploy.resources.limits.cpus`.
    public var cpus: Double?
    /// `pids_limit` (-1: none), `mem_reservation`, `memswap_limit` (-1: unlimited swap),
    /// `cpu_shares`, `cpuset`, `oom_score_adj`, `group_add`.
    public var pidsLimit: Int64?
    public var memReservation: Int64?
    public var memswapLimit: Int64?
    public var cpuShares: Int64?
    public var cpuset: String?
    public var oomScoreAdj: Int?
    public var groupAdd: [String]?
    public var dns: [String]?
    public var dnsSearch: [String]?
    public var dnsOpt: [String]?
    /// The container's root filesystem mounted read-only.
    public var readOnly: Bool?
    public var domainname: String?
    /// `host`, `none`, `bridge`, `service:NAME` or `container:NAME` instead of the stack's networks.
    public var networkMode: String?
    /// `SERVICE` or `SERVICE:ALIAS`: started first, and reachable under the alias.
    public var links: [String]?
    /// Files put into the container before it starts: `/run/secrets/NAME` unless a target is given.
    public var secrets: [FileReference]?
    /// Files put into the container before it starts: `/NAME` unless a target is given.
    public var configs: [FileReference]?
    /// `develop.watch`: what `devenv watch` (and `up --watch`) does when files change.
    public var watch: [WatchRule]?

    /// What devenv knows how to probe and provision: declared with `x-devenv.postgres` or
    /// `x-devenv.redis`, or an `image:` whose repository is exactly a known server's. Never
    /// from a substring of the reference, and never from the project's name (a built
    /// service's reference is `<project>-<service>`).
    public var kind: ServiceKind {
        if devenv?.settings["postgres"] != nil { return .postgres }
        if devenv?.settings["redis"] != nil { return .redis }
        // An app that migrates is not the database server, whatever image it runs.
        if devenv?.settings["django"] != nil { return .other }
        guard let image, let repository = ServiceKind.repository(of: image) else { return .other }
        if ServiceKind.postgresRepositories.contains(repository) { return .postgres }
        if ServiceKind.redisRepositories.contains(repository) { return .redis }
        return .other
    }

    /// `pull_policy`, `missing` when unset.
    public var pull: PullPolicy { pullPolicy.flatMap(PullPolicy.init(rawValue:)) ?? .missing }

    /// Whether the engine restarts it when it exits (`restart:` other than `no`).
    public var restarts: Bool { restart.map { $0 != "no" } ?? false }

    /// How long a service must stay running to count as up when nothing else can be checked.
    public static let defaultSettle: Double = 1

    /// `x-devenv.settle`, else `defaultSettle`.
    public var settle: Double { devenv?.settle ?? Self.defaultSettle }

    /// A service known only by its name (a container's label, without the stack file).
    public static func named(_ name: String) -> Service {
        Service(
            name: name, image: nil, build: nil, command: nil, entrypoint: nil, environment: [:], ports: [], expose: [],
            volumes: [], dependsOn: [], healthcheck: nil, profiles: [], restart: nil, workingDir: nil, user: nil,
            labels: [:], pullPolicy: nil, containerName: nil, hostname: nil, stopSignal: nil, stopGracePeriod: nil,
            tty: false, stdinOpen: false, initProcess: nil, extraHosts: [], networks: [:], devenv: nil)
    }

    /// The image `up` runs: `image:`, else `<project>-<service>` built from `build:`.
    public func imageReference(project: String) -> String {
        image ?? "\(project)-\(name)"
    }

    enum CodingKeys: String, CodingKey {
        case name, image, build, command, entrypoint, environment, ports, expose, volumes
        case dependsOn = "depends_on"
        case healthcheck, profiles, restart
        case workingDir = "working_dir"
        case user, labels
        case pullPolicy = "pull_policy"
        case containerName = "container_name"
        case hostname
        case stopSignal = "stop_signal"
        case stopGracePeriod = "stop_grace_period"
        case tty
        case stdinOpen = "stdin_open"
        case initProcess = "init"
        case extraHosts = "extra_hosts"
        case networks
        case devenv = "x-devenv"
        case capAdd = "cap_add"
        case capDrop = "cap_drop"
        case securityOpt = "security_opt"
        case ulimits, sysctls
        case shmSize = "shm_size"
        case tmpfs, devices, ipc, pid, privileged
        case memLimit = "mem_limit"
        case cpus, dns, domainname, secrets, configs, links, watch
        case pidsLimit = "pids_limit"
        case memReservation = "mem_reservation"
        case memswapLimit = "memswap_limit"
        case cpuShares = "cpu_shares"
        case cpuset
        case oomScoreAdj = "oom_score_adj"
        case groupAdd = "group_add"
        case networkMode = "network_mode"
        case dnsSearch = "dns_search"
        case dnsOpt = "dns_opt"
        case readOnly = "read_only"
    }
}

/// A top-level `secrets:` or `configs:` entry: where the file's contents come from.
public struct FileSource: Sendable, Codable, Equatable {
    public var name: String
    /// An absolute path on this machine, read at `up`.
    public var file: String?
    /// The variable (from the environment or `.env`) holding the contents.
    public var environment: String?
    /// The contents written in the file (configs only).
    public var content: String?
    /// The variable's value as the loader found it; never printed by `config`.
    public var environmentValue: String? = nil

    public init(name: String, file: String? = nil, environment: String? = nil, content: String? = nil) {
        self.name = name
        self.file = file
        self.environment = environment
        self.content = content
    }

    enum CodingKeys: String, CodingKey {
        case name, file, environment, content
    }
}

/// A service's use of a secret or config: which one, and where in the container.
public struct FileReference: Sendable, Codable, Equatable {
    public var source: String
    /// Absolute path in the container.
    public var target: String
    public var uid: Int
    public var gid: Int
    public var mode: Int

    public init(source: String, target: String, uid: Int = 0, gid: Int = 0, mode: Int = 0o444) {
        self.source = source
        self.target = target
        self.uid = uid
        self.gid = gid
        self.mode = mode
    }
}

/// A `ulimits:` entry: one number sets both.
public struct ULimitRange: Sendable, Codable, Equatable {
    public var soft: Int64
    public var hard: Int64

    public init(soft: Int64, hard: Int64) {
        self.soft = soft
        self.hard = hard
    }
}

public struct Build: Sendable, Codable, Equatable {
    /// Absolute path of the build context.
    public var context: String
    public var dockerfile: String
    public var args: [String: String]
    public var target: String?
}

public struct PortMapping: Sendable, Codable, Equatable, Hashable {
    public var target: Int
    /// `nil`: a free port chosen by the engine.
    public var published: Int?
    public var hostIP: String
    public var `protocol`: String

    public init(target: Int, published: Int?, hostIP: String, protocol: String) {
        self.target = target
        self.published = published
        self.hostIP = hostIP
        self.protocol = `protocol`
    }

    enum CodingKeys: String, CodingKey {
        case target, published
        case hostIP = "host_ip"
        case `protocol`
    }
}

public struct VolumeMount: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable { case volume, bind, tmpfs }
    public var type: Kind
    /// Volume name (as declared in the file) or absolute host path; `nil` for anonymous volumes and tmpfs.
    public var source: String?
    public var target: String
    public var readOnly: Bool
    /// A bind mount's SELinux relabelling: `z` (shared) or `Z` (private).
    public var selinux: String?
    /// A bind mount's propagation: `rprivate`, `private`, `rshared`, `shared`, `rslave`, `slave`.
    public var propagation: String?

    enum CodingKeys: String, CodingKey {
        case type, source, target
        case readOnly = "read_only"
        case selinux, propagation
    }
}

public struct Dependency: Sendable, Codable, Equatable {
    public enum Condition: String, Sendable, Codable {
        case started = "service_started"
        case healthy = "service_healthy"
        case completedSuccessfully = "service_completed_successfully"
    }
    public var service: String
    public var condition: Condition
    public var required: Bool
}

public struct Healthcheck: Sendable, Codable, Equatable {
    /// `["CMD", …]`, `["CMD-SHELL", "…"]` or `["NONE"]` when disabled.
    public var test: [String]
    public var interval: Double?
    public var timeout: Double?
    public var retries: Int?
    public var startPeriod: Double?
    public var startInterval: Double?

    public var disabled: Bool { test.first == "NONE" }

    enum CodingKeys: String, CodingKey {
        case test, interval, timeout, retries
        case startPeriod = "start_period"
        case startInterval = "start_interval"
    }
}

/// The `x-devenv` key of a service: values devenv fills in and what it provisions.
/// `pull_policy` (the loader accepts only these).
public enum PullPolicy: String, Sendable, Codable {
    case always, missing, never, build
}

/// The servers devenv probes natively and provisions; everything else is `other`.
public enum ServiceKind: String, Sendable, Codable, CaseIterable {
    case postgres, redis, other

    /// Repositories of PostgreSQL server images (Docker Hub names, `library/` dropped).
    public static let postgresRepositories: Set<String> = [
        "postgres", "postgis/postgis", "bitnami/postgresql", "bitnami/postgresql-repmgr", "cimg/postgres",
        "circleci/postgres", "timescale/timescaledb", "timescale/timescaledb-ha", "supabase/postgres",
    ]
    /// Repositories of Redis server images.
    public static let redisRepositories: Set<String> = [
        "redis", "bitnami/redis", "redis/redis-stack", "redis/redis-stack-server", "cimg/redis", "circleci/redis",
    ]

    /// `reference`'s repository as Docker Hub names it: without a registry host (the first
    /// component when it has a `.` or `:` or is `localhost`), a `docker.io/` a mirror keeps in
    /// its path (`registry.cern.ch/docker.io/library/postgres`), `library/`, the tag and the
    /// digest; lowercased. nil for an empty reference.
    public static func repository(of reference: String) -> String? {
        var path = reference.lowercased()
        if let at = path.firstIndex(of: "@") { path = String(path[..<at]) }
        var components = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if let last = components.last, let colon = last.firstIndex(of: ":") {
            components[components.count - 1] = String(last[..<colon])
        }
        if components.count > 1, let first = components.first,
            first.contains(".") || first.contains(":") || first == "localhost"
        {
            components.removeFirst()
        }
        if components.count > 1, components.first == "docker.io" || components.first == "index.docker.io" {
            components.removeFirst()
        }
        if components.count > 1, components.first == "library" { components.removeFirst() }
        let repository = components.joined(separator: "/")
        return repository.isEmpty ? nil : repository
    }
}

public struct DevenvExtension: Sendable, Codable, Equatable {
    /// Environment values with `{{ SERVICE.PATH }}` references, filled in by devenv.
    public var env: [String: String]
    /// The other `x-devenv` keys (postgres, redis, django, seed), as normalized JSON, for
    /// `{{ }}` lookups.
    public var settings: [String: JSONValue]
    public var postgres: PostgresSpec?
    public var redis: RedisSpec?
    public var django: DjangoSpec?
    /// `x-devenv.migrate`: the command that migrates a non-Django app's database
    /// (`provision --target … --migrate` runs it in a one-off container).
    public var migrate: [String]? = nil
    /// `x-devenv.settle`: how long a service with nothing to check (no healthcheck, no native
    /// probe) must stay running, without exiting or restarting, to count as up. Seconds;
    /// `Service.defaultSettle` when unset.
    public var settle: Double? = nil
}

/// A JSON-shaped value, to carry extension settings through `config` unchanged.
public indirect enum JSONValue: Sendable, Codable, Equatable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .null: try container.encodeNil()
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { object[key] } else { nil }
    }

    public var string: String? { if case .string(let value) = self { value } else { nil } }
}

/// One `develop.watch` rule: files under `path` (absolute, on this machine) that change are
/// synced to `target` in the container, rebuild the service, or are synced and restart it.
public struct WatchRule: Sendable, Codable, Equatable {
    public enum Action: String, Sendable, Codable {
        case sync
        case rebuild
        case syncRestart = "sync+restart"
    }
    public var action: Action
    public var path: String
    /// The container path `path` maps to (sync actions).
    public var target: String?
    /// Patterns relative to `path`, as in `.dockerignore`.
    public var ignore: [String]

    public init(action: Action, path: String, target: String?, ignore: [String] = []) {
        self.action = action
        self.path = path
        self.target = target
        self.ignore = ignore
    }
}
