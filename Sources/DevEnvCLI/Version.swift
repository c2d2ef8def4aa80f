import ArgumentParser
import DevEnvCore

struct Version: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print devenv's version.")

    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        if json {
            try Output(json: true).printJSON(["version": DevEnvVersion.current])
        } else {
            print("devenv \(DevEnvVersion.current)")
        }
    }
}
