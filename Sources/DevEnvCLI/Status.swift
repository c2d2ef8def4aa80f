import ArgumentParser

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the project's services (alias: ps).", aliases: ["ps"])

    @OptionGroup var project: ProjectOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        _ = try await connectEngine()
        throw CLIError.notYetAvailable("status", issue: 4)
    }
}
