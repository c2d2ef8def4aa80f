import ArgumentParser

struct Psql: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "psql into a provisioned database as its owner.")

    @OptionGroup var project: ProjectOptions
    @Argument var database: String?

    func run() async throws {
        _ = try await connectEngine()
        throw CLIError.notYetAvailable("psql", issue: 5)
    }
}
