import Crypto
import DevEnvModel
import DevEnvProvisioning
import DevEnvRuntime
import DevEnvSamples
import DockerEngine
import Foundation
import Platform
import StateStore

/// Marks a project as disposable: who made it and until when it may live. `devenv gc` (and
/// every `up`) removes expired ones — only resources carrying these labels, never anything else.
public struct Ephemeral: Sendable {
    public static let label = "dev.devenv.ephemeral"
    public static let ownerLabel = "dev.devenv.owner"
    public static let expiresLabel = "dev.devenv.expires"

    /// The live process that tears the project down itself (`devenv test`): while it runs, the
    /// project is not collected even past its expiry, so a run longer than `--ttl` keeps its stack.
    public static let holderLabel = "dev.devenv.holder"

    /// HMAC-SHA256 of the other labels with this machine's reaper key (kept in the state store):
    /// what lets a reaper prove that devenv made a resource, since anyone can write labels.
    public static let signatureLabel = "dev.devenv.signature"

    public var owner: String
    public var expires: Date
    public var holder: Holder?
    /// The reaper key (`signingKey(in:)`).
    let key: String

    public init(owner: String, expires: Date, holder: Holder? = nil, key: String) {
        self.owner = owner
        self.expires = expires
        self.holder = holder
        self.key = key
    }

    /// The key that signs this user's disposable projects: made once, kept in the state store
    /// (mode 0600) under a scope no project can have.
    public static func signingKey(in store: StateStore) throws -> String {
        try store.secret(project: "devenv:reaper", key: "signing-key") { StateStore.generateSecret(length: 43) }
    }

    /// The labels of a resource of `project`, signed.
    public func labels(project: String) -> [String: String] {
        var labels = [
            Self.label: "true", Self.ownerLabel: owner, Self.expiresLabel: String(Int(expires.timeIntervalSince1970)),
        ]
        labels[Self.holderLabel] = holder?.label
        labels[Self.signatureLabel] = Self.signature(of: labels, project: project, key: key)
        return labels
    }

    static func signature(of labels: [String: String], project: String, key: String) -> String {
        let material = [
            project, labels[ownerLabel] ?? "", labels[expiresLabel] ?? "", labels[holderLabel] ?? "",
        ].joined(separator: "\u{0}")
        return HMAC<SHA256>.authenticationCode(for: Data(material.utf8), using: SymmetricKey(data: Data(key.utf8)))
            .hexadecimal
    }

    /// Whether `labels` were signed with `key` for their project.
    static func isSigned(_ labels: [String: String], key: String) -> Bool {
        guard let project = labels[ProjectLabel.project], let signature = labels[signatureLabel] else { return false }
        return signature == Self.signature(of: labels, project: project, key: key)
    }

    /// `30s`, `10m`, `2h`, `1d` (or plain seconds).
    public static func duration(_ text: String) -> TimeInterval? {
        if let days = text.hasSuffix("d") ? Double(text.dropLast()) : nil { return days * 86_400 }
        return StackParser.parseDuration(text)
    }
}

/// A process on this host, named so that a recycled PID is not mistaken for it: host name, PID
/// and the process's start time (`Processes.startTime`).
public struct Holder: Sendable, Equatable {
    public var host: String
    public var pid: Int32
    public var started: String

    public init(host: String, pid: Int32, started: String) {
        self.host = host
        self.pid = pid
        self.started = started
    }

    /// This process.
    public static func current() -> Holder {
        Holder(
            host: ProcessInfo.processInfo.hostName, pid: Processes.currentID,
            started: Processes.startTime(of: Processes.currentID) ?? "")
    }

    public var label: String { "\(host)/\(pid)/\(started)" }

    public init?(label: String) {
        let parts = label.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, let pid = Int32(parts[1]), pid > 0 else { return nil }
        self.init(host: String(parts[0]), pid: pid, started: String(parts[2]))
    }

    /// Whether the process still runs. A holder on another host counts as gone: its PID means
    /// nothing here, and a project must not outlive its expiry because of it.
    public var isAlive: Bool {
        guard host == ProcessInfo.processInfo.hostName else { return false }
        guard Processes.isRunning(pid) else { return false }
        return Processes.startTime(of: pid).map { $0 == started } ?? true
    }
}

/// Removes expired ephemeral projects: their containers, networks and volumes. Resources
/// without devenv's ephemeral label are never touched.
public struct Reaper: Sendable {
    let engine: any ContainerEngine
    /// This user's reaper key: only resources signed with it are ever removed.
    let key: String

    public init(engine: any ContainerEngine, key: String) {
        self.engine = engine
        self.key = key
    }

    /// Removes expired disposable projects that devenv provably made (signed with this
    /// machine's key), except containers still running for a live holder, or for a holder on
    /// another host (its liveness cannot be told from here). Returns the projects of which
    /// something was actually removed.
    @discardableResult
    public func collect(now: Date = Date()) async throws -> [String] {
        let filter: [String: String?] = [Ephemeral.label: "true"]
        func expired(_ labels: [String: String]?, running: Bool = false) -> String? {
            guard let labels, let project = labels[ProjectLabel.project],
                let expires = labels[Ephemeral.expiresLabel].flatMap(Double.init), expires < now.timeIntervalSince1970,
                Ephemeral.isSigned(labels, key: key)
            else { return nil }
            if let holder = labels[Ephemeral.holderLabel].flatMap(Holder.init(label:)) {
                if holder.isAlive { return nil }
                if running && holder.host != ProcessInfo.processInfo.hostName { return nil }
            }
            return project
        }
        let containers = try await engine.listContainers(all: true, labels: filter)
        let networks = try await engine.listNetworks(labels: filter)
        let volumes = try await engine.listVolumes(labels: filter)
        var removed: Set<String> = []
        // Another reaper (a parallel `up`, another gc) may be removing the same things: the
        // engine then answers 409 at once, so wait, briefly, until they are gone.
        for container in containers {
            guard let project = expired(container.Labels, running: container.status == .running) else { continue }
            if await settle({ try await self.engine.removeContainer(container.Id, force: true, volumes: true) }) {
                removed.insert(project)
            }
        }
        for network in networks {
            guard let project = expired(network.Labels) else { continue }
            if await settle({ try await self.engine.removeNetwork(network.Id) }) { removed.insert(project) }
        }
        for volume in volumes {
            guard let project = expired(volume.Labels) else { continue }
            if await settle({ try await self.engine.removeVolume(volume.Name, force: true) }) {
                removed.insert(project)
            }
        }
        return removed.sorted()
    }

    /// Runs a removal until it succeeds or finds nothing to remove; a conflict (removal already
    /// in progress: 409) or a network whose endpoints are still leaving (403) is retried for up
    /// to ten seconds.
    /// Whether this call removed it (false when it was gone already, or still could not be).
    private func settle(_ remove: @Sendable () async throws -> Void) async -> Bool {
        for _ in 0..<100 {
            do {
                try await remove()
                return true
            } catch let error as DockerEngineError where error.isConflict || error.status == 403 {
                try? await Task.sleep(for: .milliseconds(100))
            } catch {
                return false
            }
        }
        return false
    }
}
