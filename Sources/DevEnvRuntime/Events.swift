import DevEnvModel
import Foundation

/// One step of `up`/`down` for one service (or the project). `--json` prints these, one per line.
public struct OrchestratorEvent: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable {
        case building, built, buildOutput = "build-output", pulling, pulled
        case creating, created, recreating, starting, started, waiting, healthy, completed
        case upToDate = "up-to-date"
        case provisioning, provisioned
        case failed, stopping, stopped, removing, removed, orphan, warning, done
        /// `devenv watch`: watching files, files synced into a container, an image rebuilt.
        case watching, synced, rebuilding
    }

    /// `nil` for project-wide events (network, volumes, summary).
    public var service: String?
    public var status: Status
    public var message: String?
    /// Seconds since the command started.
    public var elapsed: Double

    public init(service: String?, status: Status, message: String? = nil, elapsed: Double) {
        self.service = service
        self.status = status
        self.message = message
        self.elapsed = elapsed
    }
}

/// Receives progress events; the CLI renders them (live lines, plain lines or JSON).
public protocol ProgressSink: Sendable {
    func emit(_ event: OrchestratorEvent)
}

/// Discards events (library use, tests).
public struct SilentProgress: ProgressSink {
    public init() {}
    public func emit(_ event: OrchestratorEvent) {}
}

/// A service that could not be brought up: why, and the last lines it logged.
public struct ServiceFailure: Error, Sendable, CustomStringConvertible {
    public var service: String
    public var reason: String
    public var logTail: [String]
    /// The dependency whose failure kept this service from starting; nil when the service
    /// failed on its own (a root cause, listed first).
    public var blockedBy: String?

    public init(service: String, reason: String, logTail: [String] = []) {
        self.service = service
        self.reason = reason
        self.logTail = logTail
    }

    /// `service` was not started because `dependency` failed.
    public static func blocked(_ service: String, by dependency: String) -> ServiceFailure {
        var failure = ServiceFailure(service: service, reason: "was not started: '\(dependency)' failed")
        failure.blockedBy = dependency
        return failure
    }

    public var description: String { "service '\(service)' \(reason)" }
}

/// `up` ended with failed services (the others were left running).
public struct UpFailure: Error, Sendable, CustomStringConvertible {
    public var failures: [ServiceFailure]

    public init(failures: [ServiceFailure]) { self.failures = failures }

    public var description: String {
        failures.map(\.description).joined(separator: "; ")
    }
}

/// The engine went away in the middle of a command: no service is to blame, and nothing can be
/// asked of the engine (not even logs) until it is back.
public struct EngineLost: Error, Sendable, CustomStringConvertible {
    /// Where devenv was talking to it.
    public var endpoint: String
    /// What the transport said.
    public var reason: String

    public init(endpoint: String, reason: String) {
        self.endpoint = endpoint
        self.reason = reason
    }

    public var description: String {
        "the docker engine at \(endpoint) went away during up (\(reason)); check that it runs ('devenv doctor'),"
            + " then run 'devenv up' again: it carries on from what is already there"
    }
}
