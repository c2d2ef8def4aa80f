import ArgumentParser
import DevEnvCore
import Foundation
import StateStore

struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "What 'up' would do to each service, and why; touches nothing.",
        discussion: """
            For each service: create, recreate, rebuild, start, keep, or remove (an orphan), with
            what changed: variable names (never values), image IDs, build-context files, parts of
            the definition, networks and volumes to create, provisioning still to do. Reads the
            engine and the state store; builds, pulls, creates and writes nothing. The same as
            'up --dry-run'.
            """)

    @OptionGroup var project: ProjectOptions
    @Flag(help: "Print a JSON array, one object per service.") var json = false
    @Flag(help: "Plan with images that have a build: section rebuilt.") var build = false
    @Flag(help: "Plan removing containers of services no longer in the file.") var removeOrphans = false
    @Argument(help: "Services to plan (with their dependencies).") var services: [String] = []

    func run() async throws {
        let stack = try project.loadStack().stack
        try await Self.show(
            stack: stack, options: UpOptions(services: services, removeOrphans: removeOrphans, build: build), json: json
        )
    }

    /// Prints the plan (shared with `up --dry-run`).
    static func show(stack: Stack, options: UpOptions, json: Bool) async throws {
        let engine = try await connectEngine()
        let orchestrator = Orchestrator(engine: engine, stack: stack, store: try StateStore.readOnly())
        let steps = try await orchestrator.plan(options)
        if json {
            try Output(json: true).printJSON(steps)
            return
        }
        let width = max(7, steps.map(\.service.count).max() ?? 0) + 2
        func pad(_ text: String, _ count: Int) -> String {
            text + String(repeating: " ", count: max(1, count - text.count))
        }
        print(pad("SERVICE", width) + pad("ACTION", 10) + "WHY")
        for step in steps {
            let reasons = step.reasons.isEmpty ? [step.action == .keep ? "up to date" : ""] : step.reasons
            print(pad(step.service, width) + pad(step.action.rawValue, 10) + reasons[0])
            for reason in reasons.dropFirst() { print(String(repeating: " ", count: width + 10) + reason) }
        }
        var counts: [String] = []
        for action in [PlanStep.Action.create, .recreate, .rebuild, .start, .remove, .keep] {
            let count = steps.filter { $0.action == action }.count
            if count > 0 { counts.append("\(count) to \(action.rawValue)") }
        }
        printError(
            "devenv: \(stack.name): " + (counts.isEmpty ? "nothing in the stack" : counts.joined(separator: ", ")))
    }
}
