import ArgumentParser
import DevEnvCore
import Foundation

/// `devenv manual`: the man page, devenv(1), made from the same argument definitions as
/// `--help`, so it never disagrees with the program (`make install` writes it).
struct Manual: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print devenv's man page (roff) made from its own --help.", shouldDisplay: false)

    @Option(help: "The date on the page (YYYY-MM-DD; default: today).") var date: String?

    func run() async throws {
        print(Self.page(date: date ?? Self.today()), terminator: "")
    }

    static func today() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.locale = Locale(identifier: "en_US_POSIX")
        return formatter.string(from: Date())
    }

    /// Every command's help, leaves included (`sample capture`, `db snapshot drop`…).
    static func commands(
        _ command: any ParsableCommand.Type, path: [String] = []
    ) -> [(path: [String], type: any ParsableCommand.Type)] {
        command.configuration.subcommands.filter { $0.configuration.shouldDisplay }.flatMap { sub in
            let name = sub.configuration.commandName ?? sub._commandName
            return [(path + [name], sub)] + commands(sub, path: path + [name])
        }
    }

    static func page(date: String) -> String {
        let root = DevEnvCommand.self
        var out = """
            .TH DEVENV 1 "\(date)" "devenv \(DevEnvVersion.current)" "User Commands"
            .SH NAME
            devenv \\- \(escape(root.configuration.abstract))
            .SH SYNOPSIS
            .B devenv
            [\\fB\\-f\\fR \\fIFILE\\fR] [\\fB\\-p\\fR \\fINAME\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGUMENTS\\fR]
            .SH DESCRIPTION
            devenv gives a developer, on a laptop or in CI, a local copy of a production layout:
            PostgreSQL with its databases and roles, Redis, the application containers wired to
            them, and sanitized sample data. It reads Compose files (compose.yaml) and drives the
            Docker Engine API (dockerd, Podman, remote engines) directly.
            .SH COMMANDS

            """
        for (path, type) in commands(root) {
            out += ".SS \(escape(path.joined(separator: " ")))\n"
            out += ".nf\n"
            let help = root.helpMessage(for: type, columns: 100)
            for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
                out += preformatted(String(line)) + "\n"
            }
            out += ".fi\n"
        }
        out += """
            .SH ENVIRONMENT
            .TP
            .B DOCKER_HOST, DOCKER_CONTEXT, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH
            Which engine, as the docker CLI reads them.
            .TP
            .B COMPOSE_FILE, COMPOSE_PROJECT_NAME, COMPOSE_PROFILES
            The stack files, project name and profiles when no flag gives them.
            .TP
            .B NO_COLOR
            No colours in log prefixes.
            .SH EXIT STATUS
            0 on success, 1 on failure, 2 for a usage or stack-file error (one file:line:col line per
            problem), 130 when interrupted; exec and run exit with their command's code.
            .SH SEE ALSO
            docker(1), docker-compose(1), psql(1)

            """
        return out
    }

    /// Text for roff: backslashes kept, a line that would read as a request kept as text.
    static func escape(_ text: String) -> String {
        ascii(text.replacingOccurrences(of: "\\", with: "\\e").replacingOccurrences(of: "-", with: "\\-"))
    }

    static func preformatted(_ line: String) -> String {
        let escaped = ascii(line.replacingOccurrences(of: "\\", with: "\\e"))
        return escaped.hasPrefix(".") || escaped.hasPrefix("'") ? "\\&" + escaped : escaped
    }

    /// Characters past ASCII (`—`, `…`, `→` in the help) as roff's `\[uXXXX]`, which every
    /// troff reads whatever its input encoding.
    static func ascii(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.isASCII {
                out.unicodeScalars.append(scalar)
            } else {
                out += "\\[u" + String(format: "%04X", scalar.value) + "]"
            }
        }
        return out
    }
}
