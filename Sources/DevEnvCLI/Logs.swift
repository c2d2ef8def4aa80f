import ArgumentParser
import DevEnvCore
import DockerEngine
import Foundation
import Platform

struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show service logs, prefixed with the service name.")

    @OptionGroup var project: ProjectOptions
    @Flag(help: "Keep streaming new lines (-f is the stack file, as in every command).") var follow = false
    @Option(help: "Lines from the end of each log.") var tail: Int?
    @Flag(name: [.customShort("t"), .long], help: "Show timestamps.") var timestamps = false
    @Argument(help: "Services (default: all).") var services: [String] = []

    func run() async throws {
        let stack = try project.projectOnly()
        let engine = try await connectEngine()
        let options = DockerClient.LogOptions(follow: follow, timestamps: timestamps, tail: tail)
        try await runInterruptibly {
            try await Self.show(stack: stack, engine: engine, services: services, options: options)
        }
    }

    /// The project's containers' logs (of `services`, or all), each line prefixed with its
    /// service (a `devenv run` container with its own name), colours on a terminal.
    static func show(
        stack: Stack, engine: DockerClient, services: [String], options: DockerClient.LogOptions
    ) async throws {
        func label(_ container: ContainerSummary) -> String {
            container.Labels?[ProjectLabel.service]
                ?? container.name ?? container.Id
        }
        let containers = try await engine.listContainers(all: true, labels: [ProjectLabel.project: stack.name])
            .filter { services.isEmpty || services.contains($0.Labels?[ProjectLabel.service] ?? "") }
            .sorted { label($0) < label($1) }
        if containers.isEmpty {
            throw CLIError(
                message:
                    "no containers for \(services.isEmpty ? "project \(stack.name)" : services.joined(separator: ", ")); is it up?"
            )
        }
        let width = containers.map { label($0).count }.max() ?? 0
        let color = Host.isTerminal(Host.standardOutput) && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        let writer = LineWriter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, container) in containers.enumerated() {
                var prefix = label(container).padding(toLength: width, withPad: " ", startingAt: 0) + " | "
                if color { prefix = "\u{1B}[\(31 + index % 6)m\(prefix)\u{1B}[0m" }
                group.addTask {
                    let tty = try await engine.inspectContainer(container.Id).Config?.Tty ?? false
                    var lines = LogLines()
                    for try await frame in try await engine.logs(container.Id, options: options, tty: tty) {
                        for (stream, line) in lines.feed(frame) { writer.write(prefix + line, to: stream) }
                    }
                    for (stream, rest) in lines.finish() { writer.write(prefix + rest, to: stream) }
                }
            }
            try await group.waitForAll()
        }
    }
}

/// Whole lines to stdout or stderr, never interleaved mid-line.
final class LineWriter: Sendable {
    private let lock = NSLock()

    func write(_ line: String, to stream: ContainerStream) {
        lock.withLock {
            let handle = stream == .stderr ? FileHandle.standardError : FileHandle.standardOutput
            handle.write(Data((line + "\n").utf8))
        }
    }
}
