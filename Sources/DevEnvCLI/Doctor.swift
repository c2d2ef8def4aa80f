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
        let report = await DoctorService(
            engine: client, statePath: StateStore.defaultPath(), selection: client.selection
        ).report()
        let output = Output(json: json)
        if json {
            try output.printJSON(report)
        } else {
            output.printFields(Self.fields(report))
        }
        if !report.engine.reachable {
            printError("devenv: \(report.engine.error ?? "cannot reach docker engine at \(report.engine.host)")")
        }
        if let stateError = report.stateError {
            FileHandle.standardError.write(Data("devenv: \(ErrorReport.lowercasingFirst(stateError))\n".utf8))
        }
        if !report.healthy { throw CommandFailure(exitCode: 1) }
    }

    /// The text form, a row per fact.
    static func fields(_ report: DoctorReport) -> [(String, String)] {
        let engine = report.engine
        let kind = engine.kind.map { $0 + (engine.rootless == true ? ", rootless" : ", rootful") } ?? "-"
        let tls = engine.tls.map { ", TLS \($0)" } ?? ""
        let published = "bound to \(engine.publishAddress) on the engine's host, reached at \(engine.reachableHost)"
        let accepts = engine.minApiVersion.map { " (engine accepts \($0)+)" } ?? ""
        let schema = report.stateSchema.map { " (schema \($0))" } ?? ""
        var rows: [(String, String)] = [
            ("devenv", report.devenvVersion),
            ("engine", engine.host),
            ("chosen because", engine.reason ?? "-"),
            ("reachable", engine.reachable ? "yes" : "no"),
            ("kind", kind),
            ("location", engine.location + tls),
            ("published ports", published),
            ("engine version", engine.version ?? "-"),
            ("api version", engine.apiVersion.map { $0 + accepts } ?? "-"),
            ("storage driver", engine.storageDriver ?? "-"),
            ("os/arch", "\(report.os)/\(report.arch)"),
            ("state store", report.statePath + schema),
            ("libcurl", report.libraries.libcurl),
            ("libpq", report.libraries.libpq),
            ("sqlite", report.libraries.sqlite),
        ]
        for disk in report.disk { rows.append(("free disk", "\(humanBytes(disk.freeBytes)) at \(disk.path)")) }
        return rows
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
