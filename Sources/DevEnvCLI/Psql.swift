import ArgumentParser
import DevEnvCore
import Foundation
import Platform
import StateStore

struct Psql: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Open psql on a provisioned database as its owner.",
        discussion: "Runs the psql of this machine (package postgresql-client) against the published port.")

    @OptionGroup var project: ProjectOptions
    @Option(help: "The PostgreSQL service (when the stack has several).") var service: String?
    @Argument(help: "The database (default: the first declared one).") var database: String?
    @Argument(parsing: .postTerminator, help: "More psql arguments, after --.") var psqlArguments: [String] = []

    func run() async throws {
        let stack = try project.loadStack().stack
        let engine = try await connectEngine()
        let store = try StateStore.forReading()
        let resolver = TemplateResolver(stack: stack, store: store)
        let candidates = stack.services.filter {
            $0.kind == .postgres
        }
        guard let chosen = service.map({ name in candidates.first { $0.name == name } }) ?? candidates.first else {
            throw CLIError(
                message: "no PostgreSQL service in the stack\(service.map { " named '\($0)'" } ?? "")", exitCode: 2)
        }
        let logins = try HostEnvironment.databaseLogins(
            chosen, environment: try resolver.environment(of: chosen), resolver: resolver)
        guard let login = database.map({ name in logins.first { $0.database == name } }) ?? logins.first else {
            throw CLIError(
                message:
                    "service '\(chosen.name)' declares no database '\(database ?? "")' (it has: \(logins.map(\.database).joined(separator: ", ")))",
                exitCode: 2)
        }
        let container = try await engine.listContainers(
            all: false, labels: [ProjectLabel.project: stack.name, ProjectLabel.service: chosen.name]
        ).first
        guard let container, let (host, port) = HostEndpoints(connection: engine.connection).published(container, 5432)
        else {
            throw CLIError(
                message:
                    "service '\(chosen.name)' is not running with port 5432 published; run 'devenv up' (and publish \"5432\")"
            )
        }
        let failure = Processes.replaceCurrent(
            with: ["psql"] + psqlArguments,
            adding: [
                "PGHOST": host, "PGPORT": String(port), "PGUSER": login.user, "PGPASSWORD": login.password,
                "PGDATABASE": login.database,
            ])
        throw CLIError(message: "cannot run psql: \(failure); install it (apt-get install postgresql-client)")
    }
}
