import ArgumentParser
import DevEnvCore
import Foundation

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bring the services up, then run their develop.watch rules as files change, until Ctrl-C.",
        discussion: """
            sync copies changed files into the running container (deleted ones are deleted there), \
            sync+restart also restarts it, rebuild rebuilds the image and recreates the container. \
            A rule's ignore patterns and the build context's .dockerignore keep files out. One line per \
            action; a failure names the file and the watch goes on. The same as 'devenv up --watch'.
            """)

    @OptionGroup var project: ProjectOptions
    @Flag(help: "Print one JSON event per line.") var json = false
    @Argument(help: "Services to watch (default: every service with develop.watch rules).") var services: [String] = []

    func run() async throws {
        var arguments = ["--watch"]
        for file in project.files { arguments += ["-f", file] }
        if let name = project.projectName { arguments += ["-p", name] }
        for profile in project.profiles { arguments += ["--profile", profile] }
        if json { arguments.append("--json") }
        let up = try Up.parse(arguments + services)
        try await up.run()
    }
}
