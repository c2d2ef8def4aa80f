import ArgumentParser
import DevEnvCore
import Foundation

struct Render: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the stack as manifests for a cluster (Kubernetes or OpenShift).",
        subcommands: [Kubernetes.self, OpenShift.self])

    struct Options: ParsableArguments {
        @OptionGroup var project: ProjectOptions
        @Option(name: .short, help: "The directory to write (default: k8s).") var output: String = "k8s"
        @Option(help: "Host of a managed PostgreSQL (DBoD) to point at instead of running one.") var externalDB: String?

        func write(_ flavor: KubernetesRender.Flavor) throws {
            let stack = try project.loadStack().stack
            var render = KubernetesRender(stack: stack, flavor: flavor, externalDatabase: externalDB)
            let files = try render.files()
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            for file in files {
                try file.yaml.write(
                    toFile: (output as NSString).appendingPathComponent(file.name), atomically: true, encoding: .utf8)
            }
            for warning in render.warnings { printError("devenv: warning: \(warning)") }
            print("wrote \(files.count) files for \(stack.services.count) services into \(output)")
            if files.contains(where: { $0.name.hasSuffix("-secret.example.yaml") }) {
                printError(
                    "devenv: the *-secret.example.yaml files hold placeholders: fill them in (or create the Secrets) before applying"
                )
            }
        }
    }

    struct Kubernetes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deployments, Services, ConfigMaps, Secret references, PVCs, Ingresses.")
        @OptionGroup var options: Options
        func run() async throws { try options.write(.kubernetes) }
    }

    struct OpenShift: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "openshift", abstract: "As kubernetes, with Routes instead of Ingresses.")
        @OptionGroup var options: Options
        func run() async throws { try options.write(.openshift) }
    }
}
