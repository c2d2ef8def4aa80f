import ArgumentParser

struct Provision: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create roles, databases and extensions on an existing server (DBoD).")

    @OptionGroup var project: ProjectOptions
    @Option(help: "postgresql:// URL of the server.") var target: String

    func run() async throws {
        throw CLIError.notYetAvailable("provision", issue: 5)
    }
}
