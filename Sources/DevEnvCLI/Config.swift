import ArgumentParser
import DevEnvCore
import Foundation
import Yams

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
        } else if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(stack), as: UTF8.self))
        } else {
            let encoder = YAMLEncoder()
            encoder.options.sortKeys = true
            print(try encoder.encode(stack), terminator: "")
        }
    }
}
