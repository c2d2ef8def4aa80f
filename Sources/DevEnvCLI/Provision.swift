import ArgumentParser
import DevEnvCore
import Foundation
import StateStore

struct Provision: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create roles, databases, extensions and grants on an existing server (DBoD).",
        discussion: """
            Applies the x-devenv.postgres block of the stack file to a running PostgreSQL server,
            with no Docker involved. It creates what is missing and changes nothing that exists:
            existing roles' passwords, attributes and memberships and existing databases' owners
            are reported as drift and left alone, except roles devenv created there (marked with a
            comment) and roles named with --adopt. Everything is checked first (the admin's
            privileges, undeclared data, drift): a refused run changes nothing. An admin with
            CREATEROLE CREATEDB is enough. The admin password comes from a rotation kept by devenv
            (secrets rotate-admin), else the URL, PGPASSWORD or ~/.pgpass; sslmode and other libpq
            options may be given in the URL (?sslmode=require). Passwords are kept per server:
            devenv secrets show --target URL.
            """)

    @OptionGroup var project: ProjectOptions
    @Option(help: "postgresql://ADMIN@HOST:PORT/DB of the server (DB: where the admin connects; default postgres).")
    var target: String
    @Option(help: "The service whose x-devenv.postgres to apply (when several have one).") var service: String?
    @Flag(help: "Print the statements (secrets masked) and the drift, and change nothing.") var dryRun = false
    @Flag(help: "Provision even a server that holds data the file does not declare.") var force = false
    @Option(
        help:
            "Take over an existing role the file declares: set its attributes, memberships and password, and mark it as devenv's (repeatable)."
    )
    var adopt: [String] = []
    @Flag(
        help:
            "Then run the stack's migrations (x-devenv.django, or x-devenv.migrate) against the server, in one-off containers."
    )
    var migrate = false
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let stack = try project.loadStack().stack
        let store = try StateStore()
        let target = try PostgresTarget(url: self.target)
        let resolver = TemplateResolver(stack: stack, store: store, scope: target.secretScope)
        let provisioning = try PostgresProvisioning.select(in: stack, service: service, resolver: resolver)
        let (dryRun, force, policy) = (self.dryRun, self.force, ProvisionPolicy.managedServer(adopt: Set(adopt)))
        let report = try await runInterruptibly {
            try await offCooperativePool {
                try provisioning.run(target: target, dryRun: dryRun, force: force, policy: policy)
            }
        }
        var migrations: [TargetMigration.Plan] = []
        if migrate {
            let migration = TargetMigration(
                engine: try await connectEngine(), stack: stack, database: provisioning.service, target: target,
                resolver: resolver)
            migrations = migration.plans()
            if migrations.isEmpty {
                throw CLIError(
                    message:
                        "--migrate: no service of the stack migrates \(provisioning.service.name) (x-devenv.django, or x-devenv.migrate with a command)",
                    exitCode: 2)
            }
            if !dryRun {
                let quiet = json
                try await runInterruptibly {
                    try await migration.run { line in if !quiet { printError("devenv: migrating \(line)") } }
                }
            }
        }
        if json {
            struct Step: Encodable {
                var database: String
                var sql: String
                var summary: String
            }
            struct Migration: Encodable {
                var service: String
                var commands: [[String]]
            }
            struct Report: Encodable {
                var service: String
                var applied: Bool
                var steps: [Step]
                var drift: [ProvisionDrift]
                var notes: [String]
                var migrations: [Migration]
            }
            try Output(json: true).printJSON(
                Report(
                    service: report.service, applied: report.applied,
                    steps: report.steps.map { Step(database: $0.database, sql: $0.display, summary: $0.summary) },
                    drift: report.drift, notes: report.notes,
                    migrations: migrations.map { Migration(service: $0.service, commands: $0.commands) }))
            return
        }
        for note in report.notes { printError("devenv: \(note)") }
        defer {
            for plan in migrations {
                for command in plan.commands {
                    print(
                        dryRun
                            ? "-- migrate: \(plan.service): \(command.joined(separator: " "))"
                            : "\(plan.service): migrated (\(command.suffix(3).joined(separator: " ")))")
                }
            }
        }
        if report.steps.isEmpty && report.drift.isEmpty {
            print("\(report.service): the server already matches the file; no statements issued")
            return
        }
        for step in report.steps {
            print(dryRun ? "\(step.display);" : "\(report.service): \(step.summary)")
        }
        for drift in report.drift {
            print(dryRun ? "-- drift: \(drift.summary)" : "\(report.service): drift: \(drift.summary)")
        }
        let left =
            report.drift.isEmpty
            ? "" : "; \(report.drift.count) difference\(report.drift.count == 1 ? "" : "s") left alone (drift: above)"
        if dryRun {
            printError("devenv: dry run: \(report.steps.count) statements planned, none issued\(left)")
        } else {
            printError("devenv: \(report.service): \(report.steps.count) statements issued\(left)")
        }
    }
}
