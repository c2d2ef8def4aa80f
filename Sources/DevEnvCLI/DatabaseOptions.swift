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
        if let target { return try DatabaseContext.target(url: target) }
        let stack = try project.loadStack().stack
        return try await DatabaseContext.stack(
            stack, service: service, engine: try await connectEngine(), store: try StateStore())
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
