import DevEnvModel
import DevEnvProvisioning
import DevEnvRuntime
import DevEnvSamples
import DockerEngine
import Foundation
import Platform
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
        /// `docker` or `podman`, once it answered.
        public var kind: String?
        public var rootless: Bool?
        /// `local` (this machine, or a VM of it: published ports on 127.0.0.1) or `remote`.
        public var location: String
        /// How the engine was chosen: `DOCKER_HOST`, `context`, `socket` or `fallback`.
        public var source: String?
        /// Why, in a sentence.
        public var reason: String?
        public var context: String?
        /// TLS to a tcp:// engine: `verified`, `unverified`, or nil.
        public var tls: String?
        /// Where published ports are bound on the engine's host, and reached from here.
        public var publishAddress: String
        public var reachableHost: String
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
    let selection: EngineSelection?

    public init(engine: any ContainerEngine, statePath: String, selection: EngineSelection? = nil) {
        self.engine = engine
        self.statePath = statePath
        self.selection = selection
    }

    public func report() async -> DoctorReport {
        let endpoints = HostEndpoints(connection: engine.connection)
        var engineReport = DoctorReport.Engine(
            host: engine.endpointDescription, reachable: false, location: endpoints.isRemote ? "remote" : "local",
            source: selection?.source.rawValue, reason: selection?.reason, context: selection?.context,
            tls: engine.connection.tls.map { $0.verify ? "verified" : "unverified" },
            publishAddress: endpoints.publishAddress, reachableHost: endpoints.reachableHost)
        do {
            _ = try await engine.apiVersion()
            engineReport.reachable = true
            let identity = try await engine.identity()
            engineReport.kind = identity.kind.rawValue
            engineReport.rootless = identity.rootless
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
            if let error = error as? DockerEngineError {
                let hint = error.hint ?? (error.code == .unreachable ? "is the engine running?" : nil)
                engineReport.error = error.message + (hint.map { ": \($0)" } ?? "")
            } else {
                engineReport.error = String(describing: error)
            }
        }

        var stateSchema: Int?
        var stateError: String?
        do {
            stateSchema = try StateStore(path: statePath).recordedSchemaVersion()
        } catch {
            stateError = String(describing: error)
        }

        let (system, machine) = Host.system()

        var disks = [DoctorReport.Disk(path: (statePath as NSString).deletingLastPathComponent, freeBytes: nil)]
        // The engine's root is only measurable when the engine runs on this machine.
        if let root = engineReport.rootDir, !endpoints.isRemote,
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
    static func freeBytes(at path: String) -> Int64? { Host.freeBytes(at: path) }
}
