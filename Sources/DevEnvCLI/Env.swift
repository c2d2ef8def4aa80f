import ArgumentParser
import DevEnvCore
import Foundation
import StateStore

struct Env: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Variables a host process needs to reach the stack.",
        discussion: """
            Without SERVICE: DATABASE_URL and PG* for the first PostgreSQL service, REDIS_URL for the first Redis,
            and <SERVICE>_URL for each of them, with the ports published on this machine.
            With SERVICE: that service's environment, with x-devenv values filled in.
            Passwords, secrets, keys and tokens (by variable name, and the password of every URL) print
            as *** unless --show-secrets: `eval "$(devenv env --show-secrets)"` in a script.
            """)

    @OptionGroup var project: ProjectOptions
    @Option(help: "dotenv or json.") var format: OutputFormat = .dotenv
    @Flag(help: "Print passwords, secrets, keys and tokens instead of ***.") var showSecrets = false
    @Argument(help: "A service whose environment to print.") var service: String?

    enum OutputFormat: String, ExpressibleByArgument { case dotenv, json }

    func run() async throws {
        let stack = try project.loadStack().stack
        let store = try StateStore.forReading()
        var variables: [String: String]
        if let service {
            guard let definition = stack.service(service) else {
                throw CLIError(message: "no service '\(service)' in the stack", exitCode: 2)
            }
            do {
                variables = try TemplateResolver(stack: stack, store: store).environment(of: definition)
            } catch let error as TemplateResolver.Failure {
                throw CLIError(message: error.message, exitCode: 2)
            }
        } else {
            let engine = try await connectEngine()
            variables = try await HostEnvironment(engine: engine, stack: stack, store: store).variables()
        }
        if format == .dotenv {
            // Printed for `eval`: a key that is not a shell name would run as a command.
            for key in variables.keys.sorted() where !Self.isShellName(key) {
                let location = service.flatMap { stack.location(ofVariable: key, in: $0) }
                throw CLIError(
                    message:
                        "\(location.map { "\($0): " } ?? "")variable '\(Self.printable(key))'\(service.map { " of service '\($0)'" } ?? "") is not a shell variable name (letters, digits and _, not starting with a digit), so it cannot be printed for a shell; use --format json",
                    exitCode: 2)
            }
        }
        if !showSecrets {
            let known = SecretRule.knownSecrets(of: stack, store: store)
            variables = variables.reduce(into: [:]) { masked, entry in
                masked[entry.key] = SecretRule.masked(name: entry.key, value: entry.value, known: known)
            }
        }
        switch format {
        case .json:
            try Output(json: true).printJSON(variables)
        case .dotenv:
            for (key, value) in variables.sorted(by: { $0.key < $1.key }) {
                print("\(key)=\(Self.shellQuoted(value))")
            }
        }
    }

    /// A value as the shell (and dotenv readers) read it back byte for byte: plain when it is
    /// only ASCII letters, digits and `-_./:@%+=,`, else in single quotes, inside which nothing
    /// is special but the quote itself (`'` becomes `'\''`).
    static func shellQuoted(_ value: String) -> String {
        let plain = value.unicodeScalars.allSatisfy {
            $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_./:@%+=,".unicodeScalars.contains($0))
        }
        guard !plain || value.isEmpty else { return value }
        return "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// `[A-Za-z_][A-Za-z0-9_]*`.
    static func isShellName(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, first.isASCII, first == "_" || CharacterSet.letters.contains(first)
        else { return false }
        return key.unicodeScalars.allSatisfy { $0.isASCII && ($0 == "_" || CharacterSet.alphanumerics.contains($0)) }
    }

    /// A key as it may be shown on a terminal: control characters escaped.
    static func printable(_ text: String) -> String {
        String(
            text.unicodeScalars.map {
                $0.properties.generalCategory == .control ? "\\u{\(String($0.value, radix: 16))}" : String($0)
            }.joined())
    }
}
