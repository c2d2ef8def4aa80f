import Foundation

// Codable models of the Engine API (v1.41 field names). Only what devenv reads or writes;
// unknown fields are ignored when decoding.

/// `{}` in JSON, for maps like `ExposedPorts` whose values carry no data.
public struct EmptyObject: Codable, Sendable, Equatable {
    public init() {}
}

public struct SystemVersion: Codable, Sendable {
    public var Version: String
    public var ApiVersion: String
    public var MinAPIVersion: String?
    public var Os: String?
    public var Arch: String?
    public var KernelVersion: String?
}

public struct SystemInfo: Codable, Sendable {
    public var ServerVersion: String?
    public var Driver: String?
    public var OperatingSystem: String?
    public var OSType: String?
    public var Architecture: String?
    public var NCPU: Int?
    public var MemTotal: Int64?
    public var DockerRootDir: String?
    public var Containers: Int?
    public var Images: Int?
    public var CgroupVersion: String?
    /// `name=seccomp,profile=default`, `name=rootless`, …
    public var SecurityOptions: [String]?
    public var Name: String?
}

public struct HealthConfig: Codable, Sendable, Equatable {
    /// `["CMD", …]`, `["CMD-SHELL", "…"]` or `["NONE"]`.
    public var Test: [String]?
    /// Nanoseconds, as the API wants them.
    public var Interval: Int64?
    public var Timeout: Int64?
    public var Retries: Int?
    public var StartPeriod: Int64?
    /// Probes during the start period (API 1.44; older engines ignore it).
    public var StartInterval: Int64?

    public init(
        test: [String]?, interval: Int64? = nil, timeout: Int64? = nil, retries: Int? = nil, startPeriod: Int64? = nil,
        startInterval: Int64? = nil
    ) {
        Test = test
        Interval = interval
        Timeout = timeout
        Retries = retries
        StartPeriod = startPeriod
        StartInterval = startInterval
    }
}

public struct ImageConfig: Codable, Sendable {
    public var Env: [String]?
    public var Cmd: [String]?
    public var Entrypoint: [String]?
    public var WorkingDir: String?
    public var User: String?
    public var ExposedPorts: [String: EmptyObject]?
    public var Volumes: [String: EmptyObject]?
    public var Labels: [String: String]?
    public var Healthcheck: HealthConfig?
}

public struct ImageInspect: Codable, Sendable {
    public var Id: String
    public var RepoTags: [String]?
    public var Created: String?
    public var Size: Int64?
    public var Config: ImageConfig?
}

/// `GET /containers/{id}/top`: column titles and one row per process.
public struct ContainerTop: Codable, Sendable, Equatable {
    public var Titles: [String]
    public var Processes: [[String]]
}

public struct ImageSummary: Codable, Sendable {
    public var Id: String
    public var RepoTags: [String]?
    public var Size: Int64?
    public var Labels: [String: String]?
    /// Unix seconds.
    public var Created: Int64?
}

public struct PortBinding: Codable, Sendable, Equatable {
    public var HostIp: String?
    public var HostPort: String?

    public init(hostIP: String?, hostPort: String?) {
        HostIp = hostIP
        HostPort = hostPort
    }
}

public struct RestartPolicy: Codable, Sendable, Equatable {
    public var Name: String
    public var MaximumRetryCount: Int?

    public init(name: String, maximumRetryCount: Int? = nil) {
        Name = name
        MaximumRetryCount = maximumRetryCount
    }
}

public struct Mount: Codable, Sendable, Equatable {
    /// `volume`, `bind` or `tmpfs`.
    public var `Type`: String
    public var Source: String?
    public var Target: String
    public var ReadOnly: Bool?

    public init(type: String, source: String?, target: String, readOnly: Bool = false) {
        self.Type = type
        Source = source
        Target = target
        ReadOnly = readOnly
    }
}

public struct HostConfig: Codable, Sendable, Equatable {
    public var Binds: [String]?
    public var Mounts: [Mount]?
    public var PortBindings: [String: [PortBinding]]?
    public var NetworkMode: String?
    public var RestartPolicy: RestartPolicy?
    public var AutoRemove: Bool?
    public var Init: Bool?
    public var ExtraHosts: [String]?
    public var CapAdd: [String]?
    public var CapDrop: [String]?
    public var SecurityOpt: [String]?
    public var Ulimits: [Ulimit]?
    public var Sysctls: [String: String]?
    /// Bytes.
    public var ShmSize: Int64?
    /// Mount point → options (`size=64m,mode=1777`).
    public var Tmpfs: [String: String]?
    public var Devices: [DeviceMapping]?
    public var IpcMode: String?
    public var PidMode: String?
    public var Privileged: Bool?
    /// Bytes.
    public var Memory: Int64?
    /// CPUs × 10⁹.
    public var NanoCpus: Int64?
    public var Dns: [String]?
    public var DnsSearch: [String]?
    public var DnsOptions: [String]?
    public var ReadonlyRootfs: Bool?
    public var PidsLimit: Int64?
    /// Bytes.
    public var MemoryReservation: Int64?
    /// Memory and swap together, bytes; -1 for unlimited swap.
    public var MemorySwap: Int64?
    public var CpuShares: Int64?
    public var CpusetCpus: String?
    public var OomScoreAdj: Int?
    public var GroupAdd: [String]?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case Binds, Mounts, PortBindings, NetworkMode, RestartPolicy, AutoRemove, Init, ExtraHosts
        case CapAdd, CapDrop, SecurityOpt, Ulimits, Sysctls, ShmSize, Tmpfs, Devices, IpcMode, PidMode, Privileged
        case Memory, NanoCpus, Dns, DnsSearch, DnsOptions, ReadonlyRootfs
        case PidsLimit, MemoryReservation, MemorySwap, CpuShares, CpusetCpus, OomScoreAdj, GroupAdd
    }

    /// Podman writes `"5432/tcp": null` for an exposed port it does not publish: read as no bindings.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        Binds = try container.decodeIfPresent([String].self, forKey: .Binds)
        Mounts = try container.decodeIfPresent([Mount].self, forKey: .Mounts)
        PortBindings = try container.decodeIfPresent([String: [PortBinding]?].self, forKey: .PortBindings)?
            .mapValues { $0 ?? [] }
        NetworkMode = try container.decodeIfPresent(String.self, forKey: .NetworkMode)
        RestartPolicy = try container.decodeIfPresent(DockerEngine.RestartPolicy.self, forKey: .RestartPolicy)
        AutoRemove = try container.decodeIfPresent(Bool.self, forKey: .AutoRemove)
        Init = try container.decodeIfPresent(Bool.self, forKey: .Init)
        ExtraHosts = try container.decodeIfPresent([String].self, forKey: .ExtraHosts)
        CapAdd = try container.decodeIfPresent([String].self, forKey: .CapAdd)
        CapDrop = try container.decodeIfPresent([String].self, forKey: .CapDrop)
        SecurityOpt = try container.decodeIfPresent([String].self, forKey: .SecurityOpt)
        Ulimits = try container.decodeIfPresent([Ulimit].self, forKey: .Ulimits)
        Sysctls = try container.decodeIfPresent([String: String].self, forKey: .Sysctls)
        ShmSize = try container.decodeIfPresent(Int64.self, forKey: .ShmSize)
        Tmpfs = try container.decodeIfPresent([String: String].self, forKey: .Tmpfs)
        Devices = try container.decodeIfPresent([DeviceMapping].self, forKey: .Devices)
        IpcMode = try container.decodeIfPresent(String.self, forKey: .IpcMode)
        PidMode = try container.decodeIfPresent(String.self, forKey: .PidMode)
        Privileged = try container.decodeIfPresent(Bool.self, forKey: .Privileged)
        Memory = try container.decodeIfPresent(Int64.self, forKey: .Memory)
        NanoCpus = try container.decodeIfPresent(Int64.self, forKey: .NanoCpus)
        Dns = try container.decodeIfPresent([String].self, forKey: .Dns)
        DnsSearch = try container.decodeIfPresent([String].self, forKey: .DnsSearch)
        DnsOptions = try container.decodeIfPresent([String].self, forKey: .DnsOptions)
        ReadonlyRootfs = try container.decodeIfPresent(Bool.self, forKey: .ReadonlyRootfs)
        PidsLimit = try container.decodeIfPresent(Int64.self, forKey: .PidsLimit)
        MemoryReservation = try container.decodeIfPresent(Int64.self, forKey: .MemoryReservation)
        MemorySwap = try container.decodeIfPresent(Int64.self, forKey: .MemorySwap)
        CpuShares = try container.decodeIfPresent(Int64.self, forKey: .CpuShares)
        CpusetCpus = try container.decodeIfPresent(String.self, forKey: .CpusetCpus)
        OomScoreAdj = try container.decodeIfPresent(Int.self, forKey: .OomScoreAdj)
        GroupAdd = try container.decodeIfPresent([String].self, forKey: .GroupAdd)
    }
}

public struct Ulimit: Codable, Sendable, Equatable {
    public var Name: String
    public var Soft: Int64
    public var Hard: Int64

    public init(name: String, soft: Int64, hard: Int64) {
        Name = name
        Soft = soft
        Hard = hard
    }
}

public struct DeviceMapping: Codable, Sendable, Equatable {
    public var PathOnHost: String
    public var PathInContainer: String
    public var CgroupPermissions: String

    public init(host: String, container: String, permissions: String) {
        PathOnHost = host
        PathInContainer = container
        CgroupPermissions = permissions
    }
}

public struct EndpointSettings: Codable, Sendable, Equatable {
    public var Aliases: [String]?
    public var IPAddress: String?
    public var NetworkID: String?

    public init(aliases: [String]? = nil) {
        Aliases = aliases
    }
}

public struct NetworkingConfig: Codable, Sendable, Equatable {
    public var EndpointsConfig: [String: EndpointSettings]?

    public init(endpoints: [String: EndpointSettings]) {
        EndpointsConfig = endpoints
    }
}

/// The body of `POST /containers/create`.
public struct ContainerConfig: Codable, Sendable, Equatable {
    public var Image: String
    public var Cmd: [String]?
    public var Entrypoint: [String]?
    public var Env: [String]?
    public var Labels: [String: String]?
    public var WorkingDir: String?
    public var User: String?
    public var Hostname: String?
    public var Domainname: String?
    public var ExposedPorts: [String: EmptyObject]?
    public var Healthcheck: HealthConfig?
    public var Tty: Bool?
    public var OpenStdin: Bool?
    /// Close the container's stdin when the attached client closes its own (`devenv run`).
    public var StdinOnce: Bool?
    public var AttachStdin: Bool?
    public var AttachStdout: Bool?
    public var AttachStderr: Bool?
    public var StopSignal: String?
    public var StopTimeout: Int?
    public var HostConfig: HostConfig?
    public var NetworkingConfig: NetworkingConfig?

    public init(image: String) {
        Image = image
    }
}

public struct ContainerCreateResponse: Codable, Sendable {
    public var Id: String
    public var Warnings: [String]?
}

public struct HealthState: Codable, Sendable {
    public struct Probe: Codable, Sendable {
        public var ExitCode: Int?
        public var Output: String?
    }
    /// `starting`, `healthy`, `unhealthy` or `none`.
    public var Status: String
    public var FailingStreak: Int?
    public var Log: [Probe]?
}

public struct ContainerState: Codable, Sendable {
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited` or `dead`.
    public var Status: String
    public var Running: Bool
    /// Between an exit and the restart its restart policy asks for.
    public var Restarting: Bool?
    public var ExitCode: Int?
    public var OOMKilled: Bool?
    public var Error: String?
    public var StartedAt: String?
    public var FinishedAt: String?
    /// nil when the container has no healthcheck (Podman sends one with an empty `Status`).
    public var Health: HealthState?

    enum CodingKeys: String, CodingKey {
        case Status, Running, Restarting, ExitCode, OOMKilled, Error, StartedAt, FinishedAt, Health
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        Status = try container.decode(String.self, forKey: .Status)
        Running = try container.decode(Bool.self, forKey: .Running)
        Restarting = try container.decodeIfPresent(Bool.self, forKey: .Restarting)
        ExitCode = try container.decodeIfPresent(Int.self, forKey: .ExitCode)
        OOMKilled = try container.decodeIfPresent(Bool.self, forKey: .OOMKilled)
        Error = try container.decodeIfPresent(String.self, forKey: .Error)
        StartedAt = try container.decodeIfPresent(String.self, forKey: .StartedAt)
        FinishedAt = try container.decodeIfPresent(String.self, forKey: .FinishedAt)
        Health = try container.decodeIfPresent(HealthState.self, forKey: .Health).flatMap {
            $0.Status.isEmpty ? nil : $0
        }
    }
}

public struct NetworkSettings: Codable, Sendable {
    public var Ports: [String: [PortBinding]?]?
    public var Networks: [String: EndpointSettings]?
}

public struct ContainerInspect: Codable, Sendable {
    public var Id: String
    public var Name: String
    public var Image: String?
    public var State: ContainerState
    /// How often its restart policy restarted it.
    public var RestartCount: Int?
    public var Config: ContainerConfig?
    public var HostConfig: HostConfig?
    public var NetworkSettings: NetworkSettings?
}

public struct ContainerSummary: Codable, Sendable {
    public struct Port: Codable, Sendable, Equatable {
        public var IP: String?
        public var PrivatePort: Int
        public var PublicPort: Int?
        public var `Type`: String
    }
    /// A mount as the engine lists it: for a volume, `Name` (64 hex digits when anonymous).
    public struct MountPoint: Codable, Sendable, Equatable {
        public var `Type`: String?
        public var Name: String?
        public var Destination: String?
    }
    public var Id: String
    public var Names: [String]
    public var Image: String
    public var ImageID: String?
    public var State: String
    public var Status: String
    public var Labels: [String: String]?
    public var Ports: [Port]?
    public var Mounts: [MountPoint]? = nil

    public init(
        Id: String, Names: [String], Image: String, ImageID: String?, State: String, Status: String,
        Labels: [String: String]?, Ports: [Port]?
    ) {
        self.Id = Id
        self.Names = Names
        self.Image = Image
        self.ImageID = ImageID
        self.State = State
        self.Status = Status
        self.Labels = Labels
        self.Ports = Ports
    }
}

public struct ContainerWaitResponse: Codable, Sendable {
    public struct WaitError: Codable, Sendable { public var Message: String? }
    public var StatusCode: Int
    public var Error: WaitError?
}

public struct ExecConfig: Codable, Sendable {
    public var Cmd: [String]
    public var Env: [String]?
    public var WorkingDir: String?
    public var User: String?
    public var Tty: Bool
    public var AttachStdin: Bool
    public var AttachStdout: Bool
    public var AttachStderr: Bool

    public init(
        cmd: [String], env: [String]? = nil, workingDir: String? = nil, user: String? = nil, tty: Bool = false
    ) {
        Cmd = cmd
        Env = env
        WorkingDir = workingDir
        User = user
        Tty = tty
        AttachStdin = false
        AttachStdout = true
        AttachStderr = true
    }
}

public struct ExecInspect: Codable, Sendable {
    public var ID: String
    public var Running: Bool
    public var ExitCode: Int?
    public var Pid: Int?
}

/// What a finished exec produced.
public struct ExecResult: Sendable {
    public var exitCode: Int
    public var stdout: Data
    public var stderr: Data

    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

public struct NetworkCreate: Codable, Sendable {
    public var Name: String
    public var Driver: String?
    public var Labels: [String: String]?
    public var CheckDuplicate: Bool?
    public var Internal: Bool?
    public var Attachable: Bool?

    public init(name: String, driver: String = "bridge", labels: [String: String] = [:]) {
        Name = name
        Driver = driver
        Labels = labels
        CheckDuplicate = true
    }
}

public struct NetworkInspect: Codable, Sendable {
    public var Id: String
    public var Name: String
    public var Driver: String?
    public var Labels: [String: String]?
    public var Internal: Bool?
}

public struct VolumeCreate: Codable, Sendable {
    public var Name: String
    public var Driver: String?
    public var Labels: [String: String]?

    public init(name: String, driver: String = "local", labels: [String: String] = [:]) {
        Name = name
        Driver = driver
        Labels = labels
    }
}

public struct VolumeInspect: Codable, Sendable {
    public var Name: String
    public var Driver: String?
    public var Mountpoint: String?
    public var Labels: [String: String]?
    public var CreatedAt: String?
}

struct VolumeList: Codable, Sendable {
    var Volumes: [VolumeInspect]?
}

struct IDResponse: Codable, Sendable {
    var Id: String
}

/// A container's state, as both engines name it.
public enum ContainerStatus: String, Sendable, Codable {
    case created, running, paused, restarting, removing, exited, dead
    /// A name this devenv does not know (a newer engine's).
    case unknown
}

/// A healthcheck's verdict; `none` without a healthcheck.
public enum HealthStatus: String, Sendable, Codable {
    case starting, healthy, unhealthy, none
}

extension ContainerState {
    public var status: ContainerStatus { ContainerStatus(rawValue: Status) ?? .unknown }
    /// `none` when the container has no healthcheck.
    public var health: HealthStatus { Health.flatMap { HealthStatus(rawValue: $0.Status) } ?? .none }
}

extension ContainerSummary {
    public var status: ContainerStatus { ContainerStatus(rawValue: State) ?? .unknown }
    /// Its name without the engine's leading `/`.
    public var name: String? { Names.first.map { String($0.drop { $0 == "/" }) } }
}
