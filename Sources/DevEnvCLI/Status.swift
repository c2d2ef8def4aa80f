import ArgumentParser
import DevEnvCore

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the project's services.", aliases: ["ps"])

    @OptionGroup var project: ProjectOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let stack = try project.projectOnly()
        let engine = try await connectEngine()
        let rows = try await Orchestrator(engine: engine, stack: stack, store: nil).status()
        let output = Output(json: json)
        if json {
            try output.printJSON(rows)
            return
        }
        output.printTable(
            ["SERVICE", "CONTAINER", "IMAGE", "STATE", "HEALTH", "PORTS"],
            rows.map { row in
                [
                    row.service, row.container, row.image, row.state, row.health.isEmpty ? "-" : row.health,
                    row.ports.map { port in
                        port.hostPort.map { "\(port.hostIP ?? ""):\($0)->\(port.containerPort)/\(port.protocol)" }
                            ?? "\(port.containerPort)/\(port.protocol)"
                    }.joined(separator: ", "),
                ]
            })
    }
}
