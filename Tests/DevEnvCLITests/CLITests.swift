import Foundation
import StateStore
import TestSupport
import Testing

@testable import DevEnvCLI
@testable import DevEnvCore
@testable import DevEnvOrchestration
@testable import DockerEngine

/// The built `devenv` binary, run as a user would.
@Suite struct CLITests {
    func devenv(_ arguments: [String], _ environment: [String: String?] = [:]) throws -> ProcessResult {
        var env = environment
        if env["XDG_STATE_HOME"] == nil {
            env["XDG_STATE_HOME"] = NSTemporaryDirectory() + "devenv-cli-\(UUID().uuidString)"
        }
        return try runProcess(devenvExecutable(), arguments, environment: env)
    }

    @Test func versionPrintsTheVersion() throws {
        let result = try devenv(["version"])
        #expect(result.status == 0)
        #expect(result.stdout == "devenv \(DevEnvVersion.current)\n")
        let json = try devenv(["version", "--json"])
        #expect(json.stdout.contains(#""version" : "\#(DevEnvVersion.current)""#))
    }

    @Test func doctorJSONAgainstAnEngine() throws {
        let stub = try StubEngine { request in Reply.dockerd(request) ?? Reply.json(404, #"{"message":"no"}"#) }
        let state = NSTemporaryDirectory() + "devenv-doctor-\(UUID().uuidString)"
        let result = try devenv(["doctor", "--json"], ["DOCKER_HOST": stub.dockerHost, "XDG_STATE_HOME": state])
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let engine = try #require(object["engine"] as? [String: Any])
        #expect(engine["host"] as? String == stub.dockerHost)
        #expect(engine["reachable"] as? Bool == true)
        #expect(engine["api_version"] as? String == "1.41")
        #expect(engine["version"] as? String == "20.10.24")
        #expect(engine["storage_driver"] as? String == "overlay2")
        #expect(object["state_path"] as? String == state + "/devenv/state.db")
        #expect(object["state_schema"] as? Int == StateStore.schemaVersion)
        let libraries = try #require(object["libraries"] as? [String: String])
        #expect(Set(libraries.keys) == ["libcurl", "libpq", "sqlite"])
        #expect((object["disk"] as? [[String: Any]])?.first?["free_bytes"] is Int)
    }

    @Test func doctorWithoutAnEngineSaysSoAndFails() throws {
        let result = try devenv(["doctor", "--json"], ["DOCKER_HOST": "unix:///nonexistent.sock"])
        #expect(result.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let engine = try #require(object["engine"] as? [String: Any])
        #expect(engine["reachable"] as? Bool == false)
        #expect(engine["host"] as? String == "unix:///nonexistent.sock")
        #expect(object["state_path"] is String)
        #expect(
            result.stderr
                == "devenv: cannot reach docker engine at unix:///nonexistent.sock: is the engine running?\n"
        )
    }

    /// A valid stack file, so commands get as far as the engine.
    static let stackFile: String = {
        let directory = NSTemporaryDirectory() + "devenv-cli-stack-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/compose.yaml"
        try? "services:\n  web:\n    image: debian:bookworm-slim\n".write(
            toFile: path, atomically: true, encoding: .utf8)
        return path
    }()

    /// Every command that touches the engine fails with one line naming the socket.
    @Test(arguments: [
        ["doctor"], ["up"], ["down"], ["status"], ["ps", "--json"], ["logs", "web"], ["exec", "web", "--", "true"],
        ["env"], ["psql"], ["test", "--", "true"], ["gc"],
    ])
    func engineCommandsNameAnUnreachableSocket(arguments: [String]) throws {
        let withFile =
            ["doctor", "gc"].contains(arguments[0])
            ? arguments : [arguments[0], "-f", Self.stackFile] + arguments.dropFirst()
        let result = try devenv(withFile, ["DOCKER_HOST": "unix:///nonexistent.sock"])
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.contains("unix:///nonexistent.sock") == true)
        #expect(lines.first?.hasPrefix("devenv: ") == true)
    }

    @Test func aBadDockerHostIsAUsageError() throws {
        let result = try devenv(["status", "-f", Self.stackFile], ["DOCKER_HOST": "npipe:////./pipe/docker_engine"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("fix DOCKER_HOST"))
    }

    @Test func aContextWhoseEngineIsGoneIsNamed() throws {
        let config = NSTemporaryDirectory() + "devenv-cli-context-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: config) }
        try FileManager.default.createDirectory(
            atPath: config + "/contexts/meta/abc", withIntermediateDirectories: true)
        try #"{"Name":"colima","Endpoints":{"docker":{"Host":"unix:///nonexistent/colima.sock"}}}"#.write(
            toFile: config + "/contexts/meta/abc/meta.json", atomically: true, encoding: .utf8)
        try #"{"currentContext":"colima"}"#.write(toFile: config + "/config.json", atomically: true, encoding: .utf8)
        let result = try devenv(
            ["status", "-f", Self.stackFile], ["DOCKER_HOST": nil, "DOCKER_CONFIG": config, "DOCKER_CONTEXT": nil])
        #expect(result.status == 1)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(
            result.stderr.contains(
                "cannot reach docker engine at unix:///nonexistent/colima.sock (docker context 'colima')"),
            "\(result.stderr)")
        #expect(result.stderr.contains("docker context inspect colima"))
        let missing = try devenv(
            ["status", "-f", Self.stackFile], ["DOCKER_HOST": nil, "DOCKER_CONTEXT": "gone", "DOCKER_CONFIG": config])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("docker context 'gone' (from DOCKER_CONTEXT) does not exist"))
    }

    @Test func unknownCommandsAndFlagsAreUsageErrors() throws {
        #expect(try devenv(["frobnicate"]).status == 2)
        #expect(try devenv(["up", "--no-such-flag"]).status == 2)
        let help = try devenv(["--help"])
        #expect(help.status == 0)
        for noun in [
            "up", "down", "status", "logs", "exec", "env", "config", "provision", "seed", "sample", "db", "import",
            "render", "doctor", "psql", "test", "gc", "stop", "start", "restart", "kill", "pause", "unpause", "rm",
        ] {
            #expect(help.stdout.contains("  \(noun)"), "help lists \(noun)")
        }
    }
}

@Suite struct StackFileCLITests {
    func devenv(_ arguments: [String], in directory: String) throws -> ProcessResult {
        try runProcess(
            devenvExecutable(), arguments,
            environment: [
                "XDG_STATE_HOME": NSTemporaryDirectory() + "devenv-cli-\(UUID().uuidString)",
                "DOCKER_HOST": "unix:///nonexistent.sock", "PWD": directory,
            ], currentDirectory: directory)
    }

    func project(_ text: String) throws -> String {
        let directory = NSTemporaryDirectory() + "devenv-cfg-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try text.write(toFile: directory + "/compose.yaml", atomically: true, encoding: .utf8)
        return directory
    }

    /// Bad files fail with exit 2 and file:line:col before any engine is contacted (the engine
    /// here does not exist, so reaching it would say so instead).
    @Test func badFilesAreUsageErrorsWithLocations() throws {
        let directory = try project(
            "services:\n  web:\n    image: x\n    ports: 80\n  db:\n    image: postgres:15\n    depends_on: [cache]\n")
        for command in ["up", "config", "down", "status", "env"] {
            let result = try devenv([command], in: directory)
            #expect(result.status == 2, "\(command)")
            #expect(
                result.stderr.contains("/compose.yaml:4:12: error: services.web.ports must be a list, found a number"))
            #expect(result.stderr.contains("/compose.yaml:7:18: error: service 'db' depends on 'cache'"))
            #expect(!result.stderr.contains("nonexistent.sock"))
        }
    }

    /// `devenv env` shows secrets only on request: by name, and the password of any URL.
    @Test func envMasksSecretsUnlessAsked() throws {
        let directory = try project(
            """
            services:
              web:
                image: x
                environment:
                  DJANGO_SECRET_KEY: s3cr3t-key
                  DATABASE_URL: postgresql://app:pa55word@db:5432/app
                  REDIS_PASSWORD: r3dis
                  API_TOKEN: t0ken
                  PLAIN: visible
                  BROKER: redis://cache:6379/0
            """)
        let masked = try devenv(["env", "web"], in: directory)
        #expect(masked.status == 0, "\(masked.stderr)")
        for secret in ["s3cr3t-key", "pa55word", "r3dis", "t0ken"] { #expect(!masked.stdout.contains(secret)) }
        #expect(masked.stdout.contains("DATABASE_URL='postgresql://app:***@db:5432/app'"))
        #expect(masked.stdout.contains("DJANGO_SECRET_KEY='***'"))
        #expect(masked.stdout.contains("PLAIN=visible"))
        #expect(masked.stdout.contains("BROKER=redis://cache:6379/0"))
        let shown = try devenv(["env", "web", "--show-secrets"], in: directory)
        for secret in ["s3cr3t-key", "pa55word", "r3dis", "t0ken"] { #expect(shown.stdout.contains(secret)) }
    }

    /// `eval "$(devenv env --show-secrets)"` gives back every value byte for byte and runs
    /// nothing, whatever the compose file put in it.
    @Test func envOutputIsShellSafeByteForByte() throws {
        let marker = NSTemporaryDirectory() + "devenv-pwned-\(UUID().uuidString.prefix(8))"
        let values: [String: String] = [
            "SUBST": "$(touch \(marker))", "BACKTICK": "`touch \(marker)`", "SINGLE": "it's 'quoted'",
            "DOUBLE": #"say "hi" \"#, "DOLLAR": "$HOME ${PATH} $1", "BANG": "!! !-1", "NEWLINES": "a\nb\n\nc\n",
            "TABS": "\tx\t", "GLOB": "* ? [a]", "SEMI": "a; touch \(marker); b", "UNICODE": "café ☕ ümlaut",
            "ESCAPE": "\u{1B}[31mred\u{1B}[0m", "SPACES": "  lead and trail  ", "EMPTY": "", "TILDE": "~/x",
            "HASH": "#not a comment", "PIPE": "a | touch \(marker) &", "PLAIN": "simple-value_1.2",
        ]
        let yaml = values.sorted { $0.key < $1.key }.map { key, value -> String in
            let escaped = value.unicodeScalars.map { scalar -> String in
                switch scalar {
                case "\"": return "\\\""
                case "\\": return "\\\\"
                case "\n": return "\\n"
                case "\t": return "\\t"
                case "\u{1B}": return "\\e"
                case "$": return "$$"  // compose's escape: the value holds one literal $
                default: return String(scalar)
                }
            }.joined()
            return "      \(key): \"\(escaped)\""
        }.joined(separator: "\n")
        let directory = try project("services:\n  web:\n    image: x\n    environment:\n" + yaml + "\n")
        let printed = try devenv(["env", "web", "--show-secrets"], in: directory)
        #expect(printed.status == 0, "\(printed.stderr)")
        let script = directory + "/printed.env"
        try printed.stdout.write(toFile: script, atomically: true, encoding: .utf8)
        // Each variable, NUL-terminated, in a known order.
        let names = values.keys.sorted()
        let shell = try runProcess(
            URL(fileURLWithPath: "/bin/bash"),
            [
                "-c", "eval \"$(cat \"$1\")\" && printf '%s\\0' " + names.map { "\"$\($0)\"" }.joined(separator: " "),
                "-", script,
            ])
        #expect(shell.status == 0, "\(shell.stderr)")
        let read = shell.stdout.split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
        for (index, name) in names.enumerated() {
            #expect(read.count > index && read[index] == values[name], "\(name) changed through eval")
        }
        #expect(!FileManager.default.fileExists(atPath: marker), "eval ran a command from a value")
    }

    /// A key that is not a shell name would run as a command: refused with its place, exit 2.
    @Test func envRefusesKeysThatAreNotShellNames() throws {
        let directory = try project(
            "services:\n  web:\n    image: x\n    environment:\n      OK: 1\n      \"A;touch /tmp/k;B\": x\n")
        let result = try devenv(["env", "web"], in: directory)
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("compose.yaml:6:"), "\(result.stderr)")
        #expect(result.stderr.contains("'A;touch /tmp/k;B' of service 'web' is not a shell variable name"))
        #expect(result.stderr.contains("--format json"))
        let json = try devenv(["env", "web", "--format", "json"], in: directory)
        #expect(json.status == 0, "\(json.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: String]
        #expect(object?["A;touch /tmp/k;B"] == "x")
    }

    @Test func configPrintsTheNormalizedStack() throws {
        let directory = try project(
            "name: shop\nservices:\n  web:\n    image: nginx\n    ports: [\"8080:80\"]\n    environment: [A=1]\n")
        let yaml = try devenv(["config"], in: directory)
        #expect(yaml.status == 0)
        #expect(yaml.stdout.contains("- 127.0.0.1:8080:80/tcp"))
        #expect(yaml.stdout.contains("name: shop"))
        let json = try devenv(["config", "--json"], in: directory)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let services = try #require(object["services"] as? [String: [String: Any]])
        #expect(services["web"]?["environment"] as? [String: String] == ["A": "1"])
        #expect(!json.stdout.contains("x-devenv-"), "devenv's bookkeeping in the Compose output")
        #expect(try devenv(["config", "--format", "json"], in: directory).stdout == json.stdout)
        #expect(try devenv(["config", "--services"], in: directory).stdout == "web\n")
    }

    @Test func warningsGoToStderrAndDoNotFail() throws {
        let directory = try project("services:\n  web:\n    image: nginx\n    colour: blue\n")
        let result = try devenv(["config", "--services"], in: directory)
        #expect(result.status == 0)
        #expect(result.stderr.contains("compose.yaml:4:5: warning: unknown key 'colour' in services.web (ignored)"))
    }
}

@Suite struct ErrorReportTests {
    @Test func engineErrorsBecomeOneLineWithANextStep() {
        let unreachable = ErrorReport(
            DockerEngineError(.unreachable, "cannot reach docker engine at tcp://10.0.0.1:2375"))
        #expect(
            unreachable?.line
                == "cannot reach docker engine at tcp://10.0.0.1:2375: is dockerd running? try 'devenv doctor'")
        #expect(unreachable?.exitCode == 1)
        let api = ErrorReport(DockerEngineError(.api, "No such image: x:1", status: 404))
        #expect(api?.line == "docker engine: no such image: x:1 (HTTP 404)")
        #expect(ErrorReport(DockerEngineError(.invalidEndpoint, "bad"))?.exitCode == 2)
        #expect(ErrorReport(DockerEngineError(.cancelled, "x"))?.exitCode == 130)
        #expect(ErrorReport(CancellationError())?.exitCode == 130)
    }

    @Test func lowercasingKeepsAcronyms() {
        #expect(ErrorReport.lowercasingFirst("Cannot open") == "cannot open")
        #expect(ErrorReport.lowercasingFirst("SQLSTATE x") == "SQLSTATE x")
    }

    @Test func unknownErrorsAreLeftToTheParser() {
        struct Other: Error {}
        #expect(ErrorReport(Other()) == nil)
    }
}

@Suite struct OutputTests {
    @Test func tablesAlignColumns() {
        let text = Output.table(["SERVICE", "STATE"], [["db", "running"], ["worker-priority", "exited"]])
        #expect(text == "SERVICE          STATE\ndb               running\nworker-priority  exited\n")
    }
}

@Suite struct DoctorServiceTests {
    @Test func formatsLibpqVersions() {
        #expect(DoctorService.formatPQVersion(150018) == "15.18")
        #expect(DoctorService.formatPQVersion(90624) == "9.6.24")
    }
}

/// Compose habits for choosing the project: options before the subcommand, long names, and
/// `COMPOSE_FILE` (issue #18).
@Suite struct ComposeHabitsCLITests {
    @Test func projectOptionsBeforeTheSubcommandAreMovedAfterIt() {
        #expect(
            DevEnvCommand.hoistingProjectOptions(["-f", "x.yaml", "-p", "p", "up", "-d"])
                == ["up", "-f", "x.yaml", "-p", "p", "-d"])
        #expect(
            DevEnvCommand.hoistingProjectOptions(["--file=x.yaml", "--project-name", "p", "db", "reset", "app"])
                == ["db", "reset", "--file=x.yaml", "--project-name", "p", "app"])
        #expect(
            DevEnvCommand.hoistingProjectOptions(["-p", "p", "exec", "db", "--", "psql", "-p", "5"])
                == ["exec", "-p", "p", "db", "--", "psql", "-p", "5"])
        #expect(DevEnvCommand.hoistingProjectOptions(["up", "-p", "p"]) == ["up", "-p", "p"])
        #expect(DevEnvCommand.hoistingProjectOptions(["ps"]) == ["ps"])
    }

    /// ArgumentParser checks a command's options only when it is used: every command's help
    /// must come out clean (two options named -f made `rm` unusable once).
    @Test func everyCommandsOptionsAreValid() throws {
        for command in DevEnvCommand.configuration.subcommands {
            let name = command._commandName
            let nested = command.configuration.subcommands.map { [name, $0._commandName] }
            for path in [[name]] + nested {
                let result = try runProcess(devenvExecutable(), path + ["--help"])
                #expect(result.status == 0 && !result.stdout.contains("Validation failed"), "\(path): \(result.stdout)")
            }
        }
    }

    @Test func configReadsTheFileAndNameGivenEitherWay() throws {
        let directory = NSTemporaryDirectory() + "devenv-habits-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory + "/sub", withIntermediateDirectories: true)
        try "services:\n  web:\n    image: nginx:1.22\n".write(
            toFile: directory + "/sub/one.yaml", atomically: true, encoding: .utf8)
        try "services:\n  web:\n    environment: {A: '1'}\n".write(
            toFile: directory + "/sub/two.yaml", atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func config(_ arguments: [String], _ environment: [String: String?] = [:]) throws -> [String: Any] {
            var variables = environment
            variables["XDG_STATE_HOME"] = directory + "/state"
            let result = try runProcess(
                devenvExecutable(), arguments + ["--json"], environment: variables, currentDirectory: directory)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            return (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]) ?? [:]
        }
        for object in [
            try config(["-f", "sub/one.yaml", "-f", "sub/two.yaml", "-p", "habits", "config"]),
            try config(["--file", "sub/one.yaml", "--file=sub/two.yaml", "config", "--project-name", "habits"]),
            try config(["config"], ["COMPOSE_FILE": "sub/one.yaml:sub/two.yaml", "COMPOSE_PROJECT_NAME": "habits"]),
        ] {
            #expect(object["name"] as? String == "habits", "\(object)")
            let services = object["services"] as? [String: [String: Any]] ?? [:]
            #expect((services.values.first?["environment"] as? [String: String])?["A"] == "1", "\(object)")
        }
    }
}
