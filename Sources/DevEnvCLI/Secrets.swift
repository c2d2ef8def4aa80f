import ArgumentParser
import DevEnvCore
import Foundation
import StateStore

struct Secrets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The values devenv generated: for a project, or for a managed server (--target).",
        subcommands: [Show.self, RotateAdmin.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the generated secrets of the project, or of one server with --target.",
            discussion: """
                A managed server's secrets (the roles' passwords 'provision --target' set there, a rotated
                admin password) are kept apart from the local stack's, per host, port and database: 'down -v'
                never removes them.
                """)

        @OptionGroup var project: ProjectOptions
        @Option(help: "postgresql://ADMIN@HOST:PORT/DB: show that server's secrets.") var target: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let scope: String
            let what: String
            if let target {
                let server = try PostgresTarget(url: target)
                scope = server.secretScope
                what = "server \(server.admin["host"] ?? "localhost"):\(server.admin["port"] ?? "5432")"
            } else {
                scope = try project.projectOnly().name
                what = "project \(scope)"
            }
            let secrets = try StateStore.forReading().secrets(project: scope)
            if json {
                try Output(json: true).printJSON(secrets)
            } else if secrets.isEmpty {
                printError(
                    "devenv: \(what) has no generated secrets yet; "
                        + (target == nil ? "'devenv up' creates them" : "'devenv provision --target' creates them"))
            } else {
                for (key, value) in secrets.sorted(by: { $0.key < $1.key }) { print("\(key)=\(value)") }
            }
        }
    }

    struct RotateAdmin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-admin",
            abstract: "Give a managed server's admin a new generated password, and nothing else.",
            discussion: """
                The new password is stored (devenv secrets show --target URL) before the server is changed, so
                it is never lost; it is handed over once, on the terminal or in --output FILE (mode 0600).
                Later 'provision --target' runs log in with it.
                """)

        @Option(help: "postgresql://ADMIN@HOST:PORT/DB of the server, with the current password (or PGPASSWORD).")
        var target: String
        @Option(help: "Write the new password to this file (created with mode 0600; must not exist).") var output:
            String?

        func run() async throws {
            let server = try PostgresTarget(url: target)
            let rotation = AdminRotation(target: server, store: try StateStore())
            let output = self.output
            if let output, FileManager.default.fileExists(atPath: output) {
                throw CLIError(message: "\(output) exists; name a new file for the password", exitCode: 2)
            }
            let result = try await offCooperativePool { try rotation.rotate() }
            let place = "\(server.admin["host"] ?? "localhost"):\(server.admin["port"] ?? "5432")"
            if let output {
                try AdminRotation.writePrivately(result.password + "\n", to: output)
                print("the password of \(result.user) on \(place) changed; the new one is in \(output) (mode 0600)")
            } else {
                print("the new password of \(result.user) on \(place): \(result.password)")
            }
            printError("devenv: kept in devenv's state: 'devenv secrets show --target URL' shows it again")
        }
    }
}
