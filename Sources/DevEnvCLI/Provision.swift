import ArgumentParser
import DevEnvCore
import Foundation
import StateStore

struct Provision: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create roles, databases, extensions and grants on an existing server (DBoD).",
        discussion: """
            Applies the x-devenv.postgres block of the stack file to a running PostgreSQL server,
            with no Docker involved: only the statements the server's catalog lacks are issued.
            The admin password comes from the URL, PGPASSWORD or ~/.pgpass; sslmode and other
            libpq options may be given in the URL (?sslmode=require).
            """)

    @OptionGroup var project: ProjectOptions
    @Option(help: "postgresql://ADMIN@HOST:PORT/postgres of the server.") var target: String
    @Option(help: "The service whose x-devenv.postgres to apply (when several have one).") var service: String?
    @Flag(help: "Print the plan (secrets masked) and change nothing.") var dryRun = false
    @Flag(help: "Provision even a server that holds data the file does not declare.") var force = false
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let stack = try project.loadStack().stack
        let store = try StateStore()
        let resolver = TemplateResolver(stack: stack, store: store)
        let provisioning = try PostgresProvisioning.select(in: stack, service: service, resolver: resolver)
        let target = try PostgresTarget(url: self.target)
        let (dryRun, force) = (self.dryRun, self.force)
        let report = try await runInterruptibly {
            try await offCooperativePool {
                try provisioning.run(target: target, dryRun: dryRun, force: force, managed: true)
            }
        }
        if json {
            struct Step: Encodable {
                var database: String
                var sql: String
                var summary: String
            }
            struct Report: Encodable {
                var service: String
                var applied: Bool
                var steps: [Step]
            }
            try Output(json: true).printJSON(
                Report(
                    service: report.service, applied: report.applied,
                    steps: report.steps.map { Step(database: $0.database, sql: $0.display, summary: $0.summary) }))
            return
        }
        if report.steps.isEmpty {
            print("\(report.service): the server already matches the file; no statements issued")
            return
        }
        for step in report.steps {
            print(dryRun ? "\(step.display);" : "\(report.service): \(step.summary)")
        }
        if dryRun {
            printError("devenv: dry run: \(report.steps.count) statements planned, none issued")
        } else {
            printError("devenv: \(report.service): \(report.steps.count) statements issued")
        }
    }
}
