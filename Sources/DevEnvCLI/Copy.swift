import ArgumentParser
import DevEnvCore
import Foundation

struct Copy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cp",
        abstract: "Copy files between this machine and a service's container.",
        discussion: """
            devenv cp SERVICE:PATH LOCAL, or devenv cp LOCAL SERVICE:PATH. The container may be running or \
            stopped; the copy goes through the engine, so a remote engine works as a local one. Into an \
            existing directory the source keeps its name; otherwise it takes the destination's. Directories \
            are copied whole; an entry of the container's archive that would land outside LOCAL is refused.
            """)

    @OptionGroup var project: ProjectOptions
    @Flag(help: "Print JSON: {\"entries\", \"skipped\"}.") var json = false
    @Argument(help: "SERVICE:PATH or a local path.") var source: String
    @Argument(help: "A local path or SERVICE:PATH.") var destination: String

    /// `SERVICE:PATH` when the part before the first colon names a service of the stack.
    static func remote(_ argument: String, services: [String]) -> (service: String, path: String)? {
        guard !argument.hasPrefix("/"), !argument.hasPrefix("."), let colon = argument.firstIndex(of: ":") else {
            return nil
        }
        let service = String(argument[..<colon])
        guard services.contains(service) else { return nil }
        let path = String(argument[argument.index(after: colon)...])
        return (service, path.isEmpty ? "/" : path)
    }

    func run() async throws {
        let stack = try project.loadStack().stack
        let names = stack.services.map(\.name)
        let from = Self.remote(source, services: names)
        let to = Self.remote(destination, services: names)
        let engine = try await connectEngine()
        let outcome: ContainerCopy.Outcome
        switch (from, to) {
        case (let remote?, nil):
            outcome = try await ContainerCopy.download(
                service: remote.service, path: remote.path, to: destination, stack: stack, engine: engine)
        case (nil, let remote?):
            outcome = try await ContainerCopy.upload(
                source, service: remote.service, path: remote.path, stack: stack, engine: engine)
        case (.some, .some):
            throw CLIError(
                message: "cp copies between this machine and a container: one side is a local path", exitCode: 2)
        case (nil, nil):
            throw CLIError(
                message:
                    "cp needs SERVICE:PATH on one side (services: \(names.joined(separator: ", "))); a local path with a colon starts with ./",
                exitCode: 2)
        }
        if json { return try Output(json: true).printJSON(outcome) }
        for entry in outcome.skipped { printError("devenv: cp: skipped \(entry)") }
        printError("devenv: copied \(outcome.entries) \(outcome.entries == 1 ? "entry" : "entries")")
    }
}
