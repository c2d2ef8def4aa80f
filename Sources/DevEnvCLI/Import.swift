import ArgumentParser
import DevEnvCore
import Foundation

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Turn manifests into a stack file.", subcommands: [OpenShift.self])

    struct OpenShift: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "openshift",
            abstract: "Read oc/Kubernetes YAML (files or directories) and write a stack file.",
            discussion: "Secrets become values devenv generates; their values are never read into the output.")

        @Argument(help: "Manifest files or directories.") var paths: [String]
        @Option(name: .short, help: "Write the stack file here (default: standard output).") var output: String?
        @Option(name: .short, help: "The project name (default: the first directory's name).") var projectName: String?

        func run() async throws {
            var importer = DevEnvCore.OpenShiftImport()
            let name =
                projectName ?? (((paths.first ?? "app") as NSString).standardizingPath as NSString).lastPathComponent
            let yaml = try importer.run(paths: paths, projectName: name)
            for warning in importer.warnings { printError("devenv: warning: \(warning)") }
            if let output {
                try yaml.write(toFile: output, atomically: true, encoding: .utf8)
                printError("devenv: wrote \(output); check it with 'devenv config -f \(output)'")
            } else {
                print(yaml, terminator: "")
            }
        }
    }
}
