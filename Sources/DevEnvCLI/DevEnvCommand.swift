import ArgumentParser
import DevEnvCore
import Foundation
import Platform

/// The `devenv` command tree and its process entry point.
public struct DevEnvCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "devenv",
        abstract: "A faithful local copy of a production layout: PostgreSQL, Redis, app containers, sample data.",
        version: DevEnvVersion.current,
        subcommands: [
            Up.self, Plan.self, Down.self, Stop.self, Start.self, Restart.self, Kill.self, Pause.self, Unpause.self,
            Remove.self, Build.self, Pull.self, Status.self, Port.self, Images.self, Top.self, Logs.self, Exec.self,
            Run.self, Copy.self, Watch.self,
            Env.self, Config.self,
            Provision.self, Seed.self, Sample.self, DB.self, Import.self, Render.self,
            Doctor.self, Psql.self, Secrets.self, TestCommand.self, GC.self, Version.self, Manual.self,
        ])

    public init() {}

    /// Parses the arguments, runs the command, and turns any error into one line and an exit
    /// code: 0 ok, 1 failure, 2 usage or configuration error, 130 interrupted.
    public static func entry(arguments: [String]? = nil) async {
        // A peer that goes away (a credential helper that exits early, a closed engine
        // connection) is an error to report, never a silent death by SIGPIPE.
        SignalTrap.ignore(Signal.brokenPipe)
        let code: Int32
        do {
            var command = try parseAsRoot(hoistingProjectOptions(arguments ?? Array(CommandLine.arguments.dropFirst())))
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            code = 0
        } catch let exit as ExitCode {
            code = exit.rawValue
        } catch let failure as CommandFailure {
            code = failure.exitCode
        } catch {
            if let report = ErrorReport(error) {
                FileHandle.standardError.write(Data("devenv: \(report.line)\n".utf8))
                code = report.exitCode
            } else {
                // ArgumentParser's own errors: help and version are clean exits, bad usage is 2.
                let parserCode = exitCode(for: error).rawValue
                let message = fullMessage(for: error)
                if parserCode == 0 {
                    print(message)
                } else {
                    FileHandle.standardError.write(Data((message + "\n").utf8))
                }
                code = parserCode == 0 ? 0 : 2
            }
        }
        Foundation.exit(code)
    }
}

extension DevEnvCommand {
    /// `devenv -f FILE -p NAME up`, as docker compose takes them: the project options written
    /// before the subcommand are moved after it (after `db reset` for nested ones).
    static func hoistingProjectOptions(_ arguments: [String]) -> [String] {
        let takesValue: Set<String> = ["-f", "--file", "-p", "--project-name", "--profile"]
        var global: [String] = []
        var rest = arguments[...]
        while let first = rest.first {
            if takesValue.contains(first), rest.count > 1 {
                global += rest.prefix(2)
                rest = rest.dropFirst(2)
            } else if ["--file=", "--project-name=", "--profile="].contains(where: first.hasPrefix) {
                global.append(first)
                rest = rest.dropFirst()
            } else {
                break
            }
        }
        guard !global.isEmpty else { return arguments }
        var command: any ParsableCommand.Type = DevEnvCommand.self
        var path: [String] = []
        while let next = rest.first,
            let sub = command.configuration.subcommands.first(where: {
                $0._commandName == next || $0.configuration.aliases.contains(next)
            })
        {
            path.append(next)
            rest = rest.dropFirst()
            command = sub
        }
        return path + global + rest
    }
}

/// Thrown by a command that already printed what went wrong and only needs an exit code.
struct CommandFailure: Error {
    var exitCode: Int32
}
