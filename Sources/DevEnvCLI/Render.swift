import ArgumentParser

struct Render: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Turn the stack into manifests for a cluster.", subcommands: [Kubernetes.self])

    struct Kubernetes: AsyncParsableCommand {
        @OptionGroup var project: ProjectOptions
        @Option(name: .short) var output: String?
        func run() async throws { throw CLIError.notYetAvailable("render kubernetes", issue: 7) }
    }
}
