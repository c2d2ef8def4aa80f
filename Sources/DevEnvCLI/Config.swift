import ArgumentParser

struct Config: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the validated, interpolated, normalized stack.")

    @OptionGroup var project: ProjectOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        throw CLIError.notYetAvailable("config", issue: 4)
    }
}
