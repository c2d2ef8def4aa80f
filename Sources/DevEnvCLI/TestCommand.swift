import ArgumentParser

struct TestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test", abstract: "Run CMD against an ephemeral stack and tear it down.")

    @OptionGroup var project: ProjectOptions
    @Flag(help: "Keep the stack after CMD exits.") var keep = false
    @Argument(parsing: .postTerminator) var command: [String] = []

    func run() async throws {
        _ = try await connectEngine()
        throw CLIError.notYetAvailable("test", issue: 8)
    }
}
