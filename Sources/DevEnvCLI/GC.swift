import ArgumentParser

struct GC: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc", abstract: "Remove expired ephemeral projects devenv created.")

    func run() async throws {
        _ = try await connectEngine()
        throw CLIError.notYetAvailable("gc", issue: 8)
    }
}
