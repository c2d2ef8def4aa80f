import ArgumentParser
import DevEnvCore
import StateStore

struct Down: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove the project's containers and network; volumes only with --volumes.")

    @OptionGroup var project: ProjectOptions
    @Flag(name: [.customShort("v"), .long], help: "Also remove the project's named volumes and generated secrets.")
    var volumes = false
    @Option(name: .shortAndLong, help: "Seconds to wait for each container to stop.") var timeout: Int?
    @Flag(help: "Print one JSON event per line.") var json = false

    func run() async throws {
        let stack = try project.projectOnly()
        let engine = try await connectEngine()
        let lock = try await lockProject(stack.name, command: "devenv down")
        defer { withExtendedLifetime(lock) {} }
        let orchestrator = Orchestrator(
            engine: engine, stack: stack, store: volumes ? try StateStore() : try StateStore.forReading(),
            progress: ProgressPrinter(json: json))
        try await runInterruptibly { try await orchestrator.down(removeVolumes: volumes, timeout: timeout) }
    }
}
