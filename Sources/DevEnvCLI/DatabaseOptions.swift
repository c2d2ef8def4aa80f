import ArgumentParser
import DevEnvCore
import Foundation
import StateStore

/// `--target URL` (a managed server) or the stack's PostgreSQL service, for `seed` and `db`.
struct DatabaseOptions: ParsableArguments {
    @OptionGroup var project: ProjectOptions
    @Option(help: "postgresql://ADMIN@HOST:PORT/DB of a server (instead of the stack's container).") var target: String?
    @Option(help: "The stack's PostgreSQL service (when it has several).") var service: String?

    func context() async throws -> DatabaseContext {
        if let target = target
            ?? ProcessInfo.processInfo.environment["DEVENV_TARGET"].flatMap({
                $0.isEmpty ? nil : $0
            })
        {
            return try DatabaseContext.target(url: target)
        }
        let stack = try project.loadStack().stack
        return try await DatabaseContext.stack(
            stack, service: service, engine: try await connectEngine(), store: try StateStore())
    }
}

extension DatabaseOptions {
    /// Starts `devenv db prepare-spare DATABASE SNAPSHOT` in the background, detached, with the
    /// same stack options (a `--target` URL goes through DEVENV_TARGET, not the command line):
    /// the next restore of that snapshot renames the spare into place instead of cloning.
    /// DEVENV_SPARE=0: no spare copies and no background work (half the disk; resets clone).
    static var backgroundWork: Bool { ProcessInfo.processInfo.environment["DEVENV_SPARE"] != "0" }

    /// For the stack's own container unless DEVENV_SPARE=0; on a managed server devenv leaves no
    /// copies it was not asked for: only with DEVENV_SPARE=1.
    func prepareSpareInBackground(database: String, snapshot: String) {
        let environment = ProcessInfo.processInfo.environment
        let onServer = target != nil || !(environment["DEVENV_TARGET"] ?? "").isEmpty
        guard onServer ? environment["DEVENV_SPARE"] == "1" : Self.backgroundWork else { return }
        var arguments = ["db", "prepare-spare", database, snapshot]
        for file in project.files { arguments += ["-f", file] }
        if let name = project.projectName { arguments += ["-p", name] }
        for profile in project.profiles { arguments += ["--profile", profile] }
        if let service { arguments += ["--service", service] }
        var background = environment
        if let target { background["DEVENV_TARGET"] = target }
        runInBackground(arguments, environment: background)
    }
}

extension DatabaseContext {
    /// `name`, else the stack's (or the URL's) database; a usage error when neither says.
    func database(named name: String?) throws -> String {
        guard let database = name ?? defaultDatabase else {
            throw CLIError(message: "which database? name it (--database NAME for snapshot and restore)", exitCode: 2)
        }
        return database
    }
}
