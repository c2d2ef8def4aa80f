import ArgumentParser

struct Env: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Variables a host process needs to reach the stack.")

    @OptionGroup var project: ProjectOptions
    @Option(help: "dotenv or json.") var format: String = "dotenv"
    @Argument var service: String?

    func run() async throws {
        throw CLIError.notYetAvailable("env", issue: 4)
    }
}
