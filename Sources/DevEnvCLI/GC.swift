import ArgumentParser
import DevEnvCore

struct GC: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove expired ephemeral projects (devenv test, up --ephemeral); nothing else is touched.",
        discussion:
            "Also runs at the start of every 'devenv up'. Only resources labelled dev.devenv.ephemeral are considered.")

    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let engine = try await connectEngine()
        let removed = try await Reaper(engine: engine).collect()
        if json {
            try Output(json: true).printJSON(["removed": removed])
        } else {
            print(removed.isEmpty ? "nothing expired" : "removed: \(removed.joined(separator: ", "))")
        }
    }
}
