import ArgumentParser

struct Exec: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a command in a running service.")

    @OptionGroup var project: ProjectOptions
    @Argument var service: String
    @Argument(parsing: .postTerminator) var command: [String] = []

    func run() async throws {
        _ = try await connectEngine()
        throw CLIError.notYetAvailable("exec", issue: 4)
    }
}
