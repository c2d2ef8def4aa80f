import DockerEngine
import Foundation
import Postgres
import StateStore

/// The version of this devenv build.
public enum DevEnvVersion {
    public static let current = "0.1.0"
}

/// Everything `devenv doctor` reports. Field names are the `--json` contract.
public struct DoctorReport: Codable, Sendable {
    public struct Engine: Codable, Sendable {
        public var host: String
        public var reachable: Bool
        public var version: String?
        public var apiVersion: String?
        public var minApiVersion: String?
        public var os: String?
        public var arch: String?
        public var storageDriver: String?
        public var rootDir: String?
        public var error: String?
    }
    public struct Libraries: Codable, Sendable {
        public var libcurl: String
        public var libpq: String
        public var sqlite: String
    }
    public struct Disk: Codable, Sendable {
        public var path: String
        public var freeBytes: Int64?
    }

    public var devenvVersion: String
    public var engine: Engine
    public var os: String
    public var arch: String
    public var statePath: String
    public var stateSchema: Int?
    public var stateError: String?
    public var libraries: Libraries
    public var disk: [Disk]

    /// Whether everything devenv needs answered.
    public var healthy: Bool { engine.reachable && stateError == nil }
}

/// Gathers the doctor report from the engine, the state store and the linked libraries.
public struct DoctorService: Sendable {
    let engine: any ContainerEngine
    let statePath: String

    public init(engine: any ContainerEngine, statePath: String) {
        self.engine = engine
        self.statePath = statePath
    }

    public func report() async -> DoctorReport {
        var engineReport = DoctorReport.Engine(host: engine.endpointDescription, reachable: false)
        do {
            _ = try await engine.ping()
            engineReport.reachable = true
            engineReport.apiVersion = try await engine.apiVersion()
            let version = try await engine.version()
            engineReport.version = version.Version
            engineReport.minApiVersion = version.MinAPIVersion
            engineReport.os = version.Os
            engineReport.arch = version.Arch
            let info = try await engine.info()
            engineReport.storageDriver = info.Driver
            engineReport.rootDir = info.DockerRootDir
        } catch {
            engineReport.error = String(describing: error)
        }

        var stateSchema: Int?
        var stateError: String?
        do {
            stateSchema = try StateStore(path: statePath).recordedSchemaVersion()
        } catch {
            stateError = String(describing: error)
        }

        var uts = utsname()
        uname(&uts)
        let machine = withUnsafeBytes(of: &uts.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let system = withUnsafeBytes(of: &uts.sysname) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }

        var disks = [DoctorReport.Disk(path: (statePath as NSString).deletingLastPathComponent, freeBytes: nil)]
        // The engine's root is only measurable when the engine runs on this machine.
        if let root = engineReport.rootDir, engine.endpointDescription.hasPrefix("unix://"),
            FileManager.default.fileExists(atPath: root)
        {
            disks.append(DoctorReport.Disk(path: root, freeBytes: nil))
        }
        for index in disks.indices { disks[index].freeBytes = Self.freeBytes(at: disks[index].path) }

        return DoctorReport(
            devenvVersion: DevEnvVersion.current, engine: engineReport, os: system.lowercased(), arch: machine,
            statePath: statePath, stateSchema: stateSchema, stateError: stateError,
            libraries: DoctorReport.Libraries(
                libcurl: CurlTransport.libraryVersion, libpq: Self.formatPQVersion(PostgresConnection.libraryVersion),
                sqlite: SQLiteDatabase.libraryVersion),
            disk: disks)
    }

    /// `150018` → `15.18`.
    static func formatPQVersion(_ number: Int) -> String {
        number >= 100_000
            ? "\(number / 10_000).\(number % 10_000)" : "\(number / 10_000).\(number / 100 % 100).\(number % 100)"
    }

    /// Free bytes on the filesystem holding `path` (or its nearest existing parent).
    static func freeBytes(at path: String) -> Int64? {
        var candidate = path
        while !FileManager.default.fileExists(atPath: candidate), candidate != "/" {
            candidate = (candidate as NSString).deletingLastPathComponent
            if candidate.isEmpty { candidate = "/" }
        }
        var stats = statvfs()
        guard statvfs(candidate, &stats) == 0 else { return nil }
        return Int64(stats.f_bavail) * Int64(stats.f_frsize)
    }
}
