import ArgumentParser

struct DB: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Template-database snapshots.",
        subcommands: [Snapshot.self, Restore.self, Reset.self])

    struct Snapshot: AsyncParsableCommand {
        @Argument var name: String
        func run() async throws { throw CLIError.notYetAvailable("db snapshot", issue: 6) }
    }

    struct Restore: AsyncParsableCommand {
        @Argument var name: String
        func run() async throws { throw CLIError.notYetAvailable("db restore", issue: 6) }
    }

    struct Reset: AsyncParsableCommand {
        @Argument var database: String?
        func run() async throws { throw CLIError.notYetAvailable("db reset", issue: 6) }
    }
}
