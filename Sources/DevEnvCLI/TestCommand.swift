import ArgumentParser
import DevEnvCore
import Foundation
import Platform
import StateStore

struct TestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run CMD against a disposable copy of the stack, tear it down, exit with CMD's exit code.",
        discussion: """
            The stack (or the named services) comes up as an ephemeral project with a unique name; PostgreSQL
            and Redis get free ports on the engine's host (127.0.0.1 for a local engine); CMD runs with 'devenv env' variables (DATABASE_URL, REDIS_URL…)
            in its environment. Everything, volumes included, is removed afterwards unless --keep; a killed run
            leaves resources that expire after --ttl and that 'devenv gc' (or any 'devenv up') removes. While the run
            lives its stack is never collected, however long CMD takes.
            """)

    @OptionGroup var project: ProjectOptions
    @Flag(help: "Keep the stack after CMD exits.") var keep = false
    @Option(help: "How long the stack may live once this run has died without tearing it down.") var ttl: String = "1h"
    @Option(name: .customLong("service"), help: "Start only this service and its dependencies (repeatable).")
    var services: [String] = []
    @Argument(parsing: .postTerminator, help: "The command, after --.") var command: [String] = []

    func run() async throws {
        guard !command.isEmpty else { throw CLIError(message: "no command given: devenv test -- CMD…", exitCode: 2) }
        guard let lifetime = Ephemeral.duration(ttl) else {
            throw CLIError(message: "--ttl \(ttl): expected a duration such as 30m, 2h or 1d", exitCode: 2)
        }
        let base = try project.loadStack().stack.name
        var unique = project
        unique.projectName = "\(base)-test-\(String(UUID().uuidString.prefix(6)).lowercased())"
        let stack = try unique.loadStack().stack
        let engine = try await connectEngine()
        let store = try StateStore()
        let key = try Ephemeral.signingKey(in: store)
        _ = try? await Reaper(engine: engine, key: key).collect()
        let orchestrator = Orchestrator(
            engine: engine, stack: stack, store: store, progress: ProgressPrinter(json: false),
            ephemeral: Ephemeral(
                owner: "devenv test, " + Up.owner(), expires: Date().addingTimeInterval(lifetime), holder: .current(),
                key: key))
        printError("devenv: test project \(stack.name)")
        var status: Int32 = 1
        do {
            let summary = try await runInterruptibly { try await orchestrator.up(UpOptions(services: services)) }
            PostgresInitCache.buildInBackground(summary.initCacheRequests)
            let variables = try await HostEnvironment(engine: engine, stack: stack, store: store).variables()
            status = try Self.runCommand(command, adding: variables)
        } catch let failure as UpFailure {
            printServiceFailures(failure.failures)
        } catch let failure as ServiceFailure {
            printServiceFailures([failure])
        } catch {
            if let report = ErrorReport(error) {
                printError("devenv: \(report.line)")
                status = report.exitCode
            }
        }
        if keep {
            printError(
                "devenv: kept \(stack.name); remove it with 'devenv down -v -p \(stack.name)' (or it expires after \(ttl))"
            )
        } else {
            try? await orchestrator.down(removeVolumes: true, timeout: 2)
        }
        throw CommandFailure(exitCode: status)
    }

    /// Runs CMD with our stdin/stdout/stderr and `variables` added to the environment; Ctrl-C
    /// and SIGTERM go to CMD, and devenv waits for it to end.
    static func runCommand(_ command: [String], adding variables: [String: String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        process.environment = ProcessInfo.processInfo.environment.merging(variables) { $1 }
        try process.run()
        let pid = process.processIdentifier
        let trap = SignalTrap([Signal.interrupt, Signal.terminate]) { Processes.send($0, to: pid) }
        process.waitUntilExit()
        trap.cancel()
        return process.terminationReason == .uncaughtSignal
            ? 128 + process.terminationStatus : process.terminationStatus
    }
}
