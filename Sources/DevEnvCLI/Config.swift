import ArgumentParser
import DevEnvCore
import Foundation

struct Config: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the stack as canonical Compose that other Compose tools read back.",
        discussion: """
            Services, networks and volumes as mappings; long forms for ports, volumes, depends_on, \
            secrets and configs; paths absolute; env_file, extends and include merged; `$` written as `$$`. \
            Exits 2 with one file:line:col line per problem when the stack file is wrong.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case compose, json
    }

    @OptionGroup var project: ProjectOptions
    @Option(help: "compose (YAML, the default) or json (the same tree).") var format: Format = .compose
    @Flag(help: "The same as --format json.") var json = false
    @Flag(help: "Print only the service names.") var services = false

    func run() async throws {
        let stack = try project.loadStack().stack
        if services {
            stack.services.forEach { print($0.name) }
            return
        }
        let document = ComposeDocument.value(stack)
        if json || format == .json {
            print(document.json())
        } else {
            print(YAMLWriter.document(document), terminator: "")
        }
    }
}
