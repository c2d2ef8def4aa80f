import ArgumentParser
import DevEnvCore
import StateStore

struct Secrets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The values devenv generated for a project.", subcommands: [Show.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the project's generated secrets (the only command besides env that shows them).")

        @OptionGroup var project: ProjectOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let stack = try project.projectOnly()
            let secrets = try StateStore().secrets(project: stack.name)
            if json {
                try Output(json: true).printJSON(secrets)
            } else if secrets.isEmpty {
                printError("devenv: project \(stack.name) has no generated secrets yet; 'devenv up' creates them")
            } else {
                for (key, value) in secrets.sorted(by: { $0.key < $1.key }) { print("\(key)=\(value)") }
            }
        }
    }
}
