import ArgumentParser
import DevEnvCore
import Foundation

struct Config: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the validated, interpolated, normalized stack.",
        discussion: "Exits 2 with one file:line:col line per problem when the stack file is wrong.")

    @OptionGroup var project: ProjectOptions
    @Flag(help: "Print JSON instead of YAML.") var json = false
    @Flag(help: "Print only the service names.") var services = false

    func run() async throws {
        let stack = try project.loadStack().stack
        if services {
            stack.services.forEach { print($0.name) }
        } else {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let encoded = try encoder.encode(stack)
            if json {
                print(String(decoding: encoded, as: UTF8.self))
            } else {
                // The same tree as --json, written in one pass (linear whatever the stack's size).
                print(YAMLWriter.document(try YAMLValue(json: encoded)), terminator: "")
            }
        }
    }
}
