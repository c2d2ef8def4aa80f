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
        let environment = try await PsqlSession.environment(
            stack: stack, service: service, database: database, engine: engine, store: store)
        let failure = Processes.replaceCurrent(with: ["psql"] + psqlArguments, adding: environment)
        throw CLIError(message: "cannot run psql: \(failure); install it (apt-get install postgresql-client)")
    }
}
