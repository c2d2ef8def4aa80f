import ArgumentParser

struct Sample: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Capture and lint sanitized sample data.", subcommands: [Capture.self, Lint.self])

    struct Capture: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Capture a sanitized, FK-closed subset of a database.")
        @Option var from: String
        @Option var out: String
        @Option var policy: String?
        @Option var preset: String?
        @Option var subset: [String] = []

        func run() async throws { throw CLIError.notYetAvailable("sample capture", issue: 6) }
    }

    struct Lint: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List columns that look like PII and have no rule.")
        @Option var from: String
        @Option var policy: String?
        @Option var preset: String?

        func run() async throws { throw CLIError.notYetAvailable("sample lint", issue: 6) }
    }
}
