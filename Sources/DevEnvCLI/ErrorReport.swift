import DevEnvCore
import DockerEngine
import Foundation
import Postgres
import StateStore

/// A user-facing error: what failed and what to do next, in one line.
struct CLIError: Error {
    var message: String
    var exitCode: Int32 = 1
}

/// Turns the errors of devenv's modules into the one line the CLI prints and its exit code.
struct ErrorReport {
    var line: String
    var exitCode: Int32

    init?(_ error: any Error) {
        switch error {
        case let error as CLIError:
            self.init(line: error.message, exitCode: error.exitCode)
        case let error as DockerEngineError:
            self.init(engine: error)
        case let error as PostgresError:
            self.init(line: Self.lowercasingFirst(error.description), exitCode: error.code == .invalidArgument ? 2 : 1)
        case let error as StateStoreError:
            self.init(line: Self.lowercasingFirst(error.message), exitCode: 1)
        case let error as DevEnvError:
            self.init(line: error.message, exitCode: error.exitCode)
        case let error as ServiceFailure:
            self.init(line: error.description, exitCode: 1)
        case let error as EngineLost:
            self.init(line: error.description, exitCode: 1)
        case let error as TemplateResolver.Failure:
            self.init(line: error.message, exitCode: 2)
        case is CancellationError:
            self.init(line: "interrupted", exitCode: 130)
        default:
            return nil
        }
    }

    init(line: String, exitCode: Int32) {
        self.line = line
        self.exitCode = exitCode
    }

    private init(engine error: DockerEngineError) {
        switch error.code {
        case .unreachable:
            self.init(
                line: "\(error.message): \(error.hint ?? "is dockerd running? try 'devenv doctor'")", exitCode: 1)
        case .tls, .registryAuth, .credentials, .unsupported, .discovery:
            self.init(line: error.message + (error.hint.map { "; \($0)" } ?? ""), exitCode: 1)
        case .invalidEndpoint:
            self.init(line: "\(error.message): fix DOCKER_HOST", exitCode: 2)
        case .timeout:
            self.init(
                line:
                    "\(error.message): the engine is slow or stuck; raise DEVENV_ENGINE_TIMEOUT or try 'devenv doctor'",
                exitCode: 1)
        case .api:
            let status = error.status.map { " (HTTP \($0))" } ?? ""
            self.init(line: "docker engine: \(Self.lowercasingFirst(error.message))\(status)", exitCode: 1)
        case .cancelled:
            self.init(line: "interrupted", exitCode: 130)
        case .stream, .malformedResponse, .transport:
            self.init(line: Self.lowercasingFirst(error.message), exitCode: 1)
        }
    }

    static func lowercasingFirst(_ text: String) -> String {
        guard let first = text.first, first.isUppercase,
            text.dropFirst().first.map({ !$0.isUppercase }) ?? true
        else { return text }
        return first.lowercased() + text.dropFirst()
    }
}

/// Prints each failed service's reason and its last log lines, prefixed like `devenv logs`.
func printServiceFailures(_ failures: [ServiceFailure]) {
    for failure in failures {
        printError("devenv: \(failure.description)")
        for line in failure.logTail { printError("  \(failure.service) | \(line)") }
    }
}
