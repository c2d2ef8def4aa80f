import ArgumentParser

struct Down: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove the project's containers and network; volumes only with --volumes.")

    @OptionGroup var project: ProjectOptions
    @Flag(help: "Also remove the project's named volumes.") var volumes = false

    func run() async throws {
        _ = try await connectEngine()
        throw CLIError.notYetAvailable("down", issue: 4)
    }
}
