import ArgumentParser
import DevEnvCore
import DockerEngine
import Foundation
import StateStore

struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the engine, the state store and the libraries devenv links.",
        discussion: "Exits 1 when the engine cannot be reached or the state store cannot be opened.")

    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let client = try DockerClient.fromEnvironment()
        let report = await DoctorService(engine: client, statePath: StateStore.defaultPath()).report()
        let output = Output(json: json)
        if json {
            try output.printJSON(report)
        } else {
            let engine = report.engine
            output.printFields(
                [
                    ("devenv", report.devenvVersion),
                    ("engine", engine.host),
                    ("reachable", engine.reachable ? "yes" : "no"),
                    ("engine version", engine.version ?? "-"),
                    (
                        "api version",
                        engine.apiVersion.map { v in engine.minApiVersion.map { "\(v) (engine accepts \($0)+)" } ?? v }
                            ?? "-"
                    ),
                    ("storage driver", engine.storageDriver ?? "-"),
                    ("os/arch", "\(report.os)/\(report.arch)"),
                    ("state store", report.statePath + (report.stateSchema.map { " (schema \($0))" } ?? "")),
                    ("libcurl", report.libraries.libcurl),
                    ("libpq", report.libraries.libpq),
                    ("sqlite", report.libraries.sqlite),
                ] + report.disk.map { ("free disk", "\(Self.humanBytes($0.freeBytes)) at \($0.path)") })
        }
        if !report.engine.reachable {
            let detail = ErrorReport(
                DockerEngineError(.unreachable, "cannot reach docker engine at \(report.engine.host)"))
            FileHandle.standardError.write(Data("devenv: \(detail?.line ?? "")\n".utf8))
        }
        if let stateError = report.stateError {
            FileHandle.standardError.write(Data("devenv: \(ErrorReport.lowercasingFirst(stateError))\n".utf8))
        }
        if !report.healthy { throw CommandFailure(exitCode: 1) }
    }

    static func humanBytes(_ bytes: Int64?) -> String {
        guard let bytes else { return "unknown" }
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return (unit == 0 ? String(bytes) : String(format: "%.1f", value)) + " " + units[unit]
    }
}
