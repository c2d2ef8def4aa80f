import ArgumentParser

struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show service logs.")

    @OptionGroup var project: ProjectOptions
    @Flag(help: "Keep streaming.") var follow = false
    @Option(help: "Lines from the end of each log.") var tail: Int?
    @Argument var services: [String] = []

    func run() async throws {
        _ = try await connectEngine()
        throw CLIError.notYetAvailable("logs", issue: 4)
    }
}
