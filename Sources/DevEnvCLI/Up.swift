import ArgumentParser

struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start or converge the stack, wait healthy, provision, seed.")

    @OptionGroup var project: ProjectOptions
    @Flag(help: "Do not load sample data.") var noSeed = false
    @Flag(help: "Print one JSON event per line.") var json = false
    @Argument(help: "Services to start (with their dependencies).") var services: [String] = []

    func run() async throws {
        _ = try await connectEngine()
        throw CLIError.notYetAvailable("up", issue: 4)
    }
}
