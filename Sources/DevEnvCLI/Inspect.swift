import ArgumentParser
import DevEnvCore
import Foundation

/// `port`, `images` and `top`: what the project's containers publish, run and are made of.
struct Port: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print where a service's port is published on this machine (HOST:PORT).")
    @OptionGroup var project: ProjectOptions
    @Argument(help: "The service.") var service: String
    @Argument(help: "The port in the container.") var port: Int
    @Option(help: "tcp or udp.") var `protocol` = "tcp"
    @Flag(help: "Print JSON: [{\"host_ip\", \"host_port\", \"container_port\", \"protocol\"}].") var json = false

    func run() async throws {
        let stack = try project.projectOnly()
        let orchestrator = Orchestrator(engine: try await connectEngine(), stack: stack, store: nil)
        let bindings = try await orchestrator.publishedPort(service: service, port: port, protocol: `protocol`)
        if json { return try Output(json: true).printJSON(bindings) }
        for binding in bindings {
            let host = binding.hostIP ?? "0.0.0.0"
            print("\(host.contains(":") ? "[\(host)]" : host):\(binding.hostPort ?? 0)")
        }
    }
}

struct Images: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the images of the services' containers.")
    @OptionGroup var project: ProjectOptions
    @Argument(help: "Services (default: all).") var services: [String] = []
    @Flag(help: "Print JSON: [{\"service\", \"container\", \"image\", \"id\", \"size\"}].") var json = false

    func run() async throws {
        let stack = try project.projectOnly()
        let rows = try await Orchestrator(engine: try await connectEngine(), stack: stack, store: nil).images(services)
        let output = Output(json: json)
        if json { return try output.printJSON(rows) }
        output.printTable(
            ["SERVICE", "CONTAINER", "IMAGE", "IMAGE ID", "SIZE"],
            rows.map { row in
                let id =
                    row.id.hasPrefix("sha256:") ? String(row.id.dropFirst(7).prefix(12)) : String(row.id.prefix(12))
                let size = row.size.map { ByteCountFormatter.string(fromByteCount: $0, countStyle: .file) } ?? "-"
                return [row.service, row.container, row.image, id, size]
            })
    }
}

struct Top: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the processes of the services' running containers.")
    @OptionGroup var project: ProjectOptions
    @Argument(help: "Services (default: all).") var services: [String] = []
    @Flag(help: "Print JSON: [{\"service\", \"titles\", \"processes\"}].") var json = false

    func run() async throws {
        let stack = try project.projectOnly()
        let rows = try await Orchestrator(engine: try await connectEngine(), stack: stack, store: nil).top(services)
        let output = Output(json: json)
        if json { return try output.printJSON(rows) }
        for (index, row) in rows.enumerated() {
            print("\(index == 0 ? "" : "\n")\(row.service)")
            output.printTable(row.titles, row.processes)
        }
    }
}
