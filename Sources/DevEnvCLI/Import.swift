import ArgumentParser

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Turn manifests into a stack file.", subcommands: [OpenShift.self])

    struct OpenShift: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "openshift")
        @Argument var paths: [String]
        @Option(name: .short) var output: String?
        func run() async throws { throw CLIError.notYetAvailable("import openshift", issue: 7) }
    }
}
