import ArgumentParser
import DevEnvCore
import DockerEngine
import Foundation
import Platform
import StateStore

struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start or converge the stack, wait until it is healthy.",
        discussion: """
            Builds or pulls missing images, creates the project network and volumes, and starts
            services in parallel along depends_on. A second up with nothing changed touches nothing.
            Ctrl-C stops waiting (exit 130); started containers keep running and a new up converges.
            """)

    @OptionGroup var project: ProjectOptions
    @Flag(help: "Do not load sample data.") var noSeed = false
    @Flag(help: "Print what up would do and why, as 'devenv plan' does; touch nothing.") var dryRun = false
    @Flag(help: "Print one JSON event per line.") var json = false
    @Flag(help: "Remove containers of services no longer in the file.") var removeOrphans = false
    @Flag(help: "Rebuild images that have a build: section.") var build = false
    @Option(help: "Seconds a service may take to become healthy.") var timeout: Double = 300
    @Flag(help: "A disposable project: labelled with an owner and an expiry for 'devenv gc'.") var ephemeral = false
    @Option(help: "How long an --ephemeral project may live (30m, 2h, 1d).") var ttl: String = "1h"
    @Flag(
        help:
            "Accepted for compatibility: PostgreSQL and Redis that publish nothing always get a free port on the engine's host."
    ) var randomPorts = false
    @Flag(
        help:
            "Once up, follow the services' logs until Ctrl-C (the containers keep running; 'devenv stop' stops them)."
    ) var attach = false
    @Flag(
        help:
            "Once up, run the services' develop.watch rules as files change, until Ctrl-C (as 'devenv watch')."
    ) var watch = false
    @Argument(help: "Services to start (with their dependencies).") var services: [String] = []

    /// Who made a disposable project: user, host and process, for people reading labels.
    static func owner() -> String {
        "\(ProcessInfo.processInfo.environment["USER"] ?? "user")@\(ProcessInfo.processInfo.hostName) pid \(Processes.currentID)"
    }

    /// Runs what `--watch` or `--attach` adds after `up` until it ends or Ctrl-C (how it is
    /// meant to end: exit 0), saying before and after that the services keep running.
    static func untilInterrupted(
        doing activity: String, stack: String, _ work: @escaping @Sendable () async throws -> Void
    ) async throws {
        printError("devenv: \(activity); Ctrl-C stops it, the services keep running")
        do {
            try await runInterruptibly(work)
        } catch let error as CLIError where error.exitCode == 130 {
            // Ctrl-C: not a failure.
        }
        printError("devenv: stopped \(activity); \(stack) keeps running ('devenv stop' stops it)")
    }

    func run() async throws {
        let stack = try project.loadStack().stack
        if dryRun {
            try await Plan.show(
                stack: stack, options: UpOptions(services: services, removeOrphans: removeOrphans, build: build),
                json: json)
            return
        }
        guard let lifetime = Ephemeral.duration(ttl) else {
            throw CLIError(message: "--ttl \(ttl): expected a duration such as 30m, 2h or 1d", exitCode: 2)
        }
        let engine = try await connectEngine()
        let lock = try await lockProject(stack.name, command: "devenv up")
        defer { withExtendedLifetime(lock) {} }
        // Expired disposable projects (a CI job killed mid-way) go first; never anything else.
        let store = try StateStore()
        let key = try Ephemeral.signingKey(in: store)
        _ = try? await Reaper(engine: engine, key: key).collect()
        let printer = ProgressPrinter(json: json)
        let orchestrator = Orchestrator(
            engine: engine, stack: stack, store: store, progress: printer,
            ephemeral: ephemeral
                ? Ephemeral(owner: Self.owner(), expires: Date().addingTimeInterval(lifetime), key: key) : nil)
        let options = UpOptions(
            services: services, removeOrphans: removeOrphans, build: build, readinessTimeout: timeout, seed: !noSeed)
        let started = Date()
        do {
            let summary = try await runInterruptibly { try await orchestrator.up(options) }
            PostgresInitCache.buildInBackground(summary.initCacheRequests)
            if !json {
                let elapsed = String(format: "%.2f", Date().timeIntervalSince(started))
                var parts: [String] = []
                if !summary.created.isEmpty { parts.append("\(summary.created.count) created") }
                if !summary.recreated.isEmpty { parts.append("\(summary.recreated.count) recreated") }
                if !summary.started.isEmpty { parts.append("\(summary.started.count) started") }
                if !summary.unchanged.isEmpty { parts.append("\(summary.unchanged.count) up to date") }
                printError("devenv: \(stack.name) is up in \(elapsed)s: \(parts.joined(separator: ", "))")
            }
            if watch {
                let services = services
                try await Self.untilInterrupted(doing: "watching", stack: stack.name) {
                    try await orchestrator.watch(services)
                }
            } else if attach {
                // From the start of this up: what the services printed while it waited, then on.
                let options = DockerClient.LogOptions(follow: true, since: Int(started.timeIntervalSince1970))
                let services = services
                try await Self.untilInterrupted(doing: "following the logs", stack: stack.name) {
                    try await Logs.show(stack: stack, engine: engine, services: services, options: options)
                }
            }
        } catch let failure as UpFailure {
            printServiceFailures(failure.failures)
            if let first = failure.failures.first {
                printError(
                    "devenv: fix '\(first.service)' and run 'devenv up' again; 'devenv logs \(first.service)' shows more"
                )
            }
            throw CommandFailure(exitCode: 1)
        } catch let failure as ServiceFailure {
            printServiceFailures([failure])
            throw CommandFailure(exitCode: 1)
        }
    }
}
