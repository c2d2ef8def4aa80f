import ArgumentParser

struct Seed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load sample data; refuses a non-empty database without --force.")

    @Argument var set: String?
    @Option(help: "postgresql:// URL of the target server.") var target: String?
    @Flag var force = false

    func run() async throws {
        throw CLIError.notYetAvailable("seed", issue: 6)
    }
}
