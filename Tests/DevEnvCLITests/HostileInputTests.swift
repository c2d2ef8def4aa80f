import DevEnvCore
import Foundation
import TestSupport
import Testing

/// Files an attacker controls (a compose file from a repository, an imported manifest): every
/// one ends in a located error with exit 2 — never a crash, a hang, gigabytes, a raw control
/// character on the terminal or kilobytes of the file echoed back.
@Suite struct HostileInputTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var file: @Sendable () -> Data
        /// `compose.yaml:LINE:COL` the error must name.
        var location: String
        var message: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "interpolation nested 20,000 deep",
            file: {
                let depth = 20_000
                return Data(
                    ("services:\n  a:\n    image: x\n    environment:\n      A: \""
                        + String(repeating: "${A:-", count: depth) + "x" + String(repeating: "}", count: depth)
                        + "\"\n").utf8)
            }, location: "compose.yaml:5:10", message: "nests deeper than 32 levels"),
        Case(
            name: "aliases of a 1 MiB scalar",
            file: {
                Data(
                    ("x-big: &b \"" + String(repeating: "x", count: 1 << 20) + "\"\nservices:\n  a:\n    image: x\n"
                        + "    labels: [" + Array(repeating: "*b", count: 40).joined(separator: ", ") + "]\n").utf8)
            }, location: "compose.yaml:", message: "expands to more than 16 MiB of text"),
        Case(
            name: "3.9 million items",
            file: {
                Data(
                    ("services:\n  a:\n    image: x\nx-list: ["
                        + Array(repeating: "1", count: 3_900_000).joined(
                            separator: ",") + "]\n").utf8)
            }, location: "compose.yaml:1:1", message: "more than 200000 lines and list items"),
        Case(
            name: "a 100 KiB argument",
            file: {
                Data(
                    ("services:\n  a:\n    image: x\n    command: [sh, -c, \""
                        + String(repeating: "y", count: 100 << 10)
                        + "\"]\n").utf8)
            }, location: "compose.yaml:4:14", message: "an argument of 102400 bytes; at most 32768 bytes each"),
        Case(
            name: "just over 8 MiB",
            file: {
                Data(
                    ("services:\n  a:\n    image: x\n    environment:\n      BIG: \""
                        + String(repeating: "x", count: (8 << 20) + 10) + "\"\n").utf8)
            }, location: "compose.yaml:1:1",
            message: "the file is 8.0 MiB (8388677 bytes); a stack file is read whole, at most 8 MiB (8388608 bytes)"),
        Case(
            name: "not UTF-8",
            file: {
                Data("services:\n  a:\n    image: x\n    environment:\n      A: \"caf".utf8) + Data([0xE9, 0x22, 0x0A])
            },
            location: "compose.yaml:5:14", message: "the file is not UTF-8 text"),
        Case(
            name: "a NUL byte",
            file: {
                Data("services:\n  a:\n    image: x\n    environment:\n      A: \"x".utf8)
                    + Data([0, 0x79, 0x22, 0x0A])
            },
            location: "compose.yaml:5:12", message: "control characters are not allowed (U+0000)"),
        Case(
            name: "a duplicate key after 4 MB",
            file: {
                Data(
                    ("services:\n  a:\n    image: x\n    environment:\n"
                        + (0..<20_000).map { "      K\($0): \(String(repeating: "v", count: 200))\n" }.joined()
                        + "      K5: again\n").utf8)
            }, location: "compose.yaml:20005:7", message: "duplicate key 'K5'"),
        Case(
            name: "nesting past libyaml's limit",
            file: {
                Data(
                    ("services:\n  a:\n    image: x\n    labels: " + String(repeating: "[", count: 100_000)
                        + String(repeating: "]", count: 100_000) + "\n").utf8)
            }, location: "compose.yaml:4:", message: "nests deeper than libyaml allows"),
        Case(
            name: "a required variable's message with a newline and an escape sequence",
            file: {
                Data(
                    #"services: {a: {image: x, environment: {A: "${UNSET_X:?line one\nline two \e[31mred}"}}}"#
                        .utf8)
            }, location: "compose.yaml:1:", message: #"line one\nline two \u{1b}[31mred (variable UNSET_X)"#),
        Case(
            name: "a NUL in a role name",
            file: {
                Data(#"services: {db: {image: "postgres:15", x-devenv: {postgres: {roles: [{name: "ap\0p"}]}}}}"#.utf8)
            },
            location: "compose.yaml:1:", message: #"found 'ap\u{0}p'"#),
        Case(
            name: "reserved role names",
            file: {
                Data(
                    #"services: {db: {image: "postgres:15", x-devenv: {postgres: {roles: [{name: public}, {name: pg_monitor}]}}}}"#
                        .utf8)
            }, location: "compose.yaml:1:", message: "'public' is reserved by PostgreSQL"),
        Case(
            name: "an admin name initdb cannot quote",
            file: {
                Data(
                    #"services: {db: {image: "postgres:15", x-devenv: {postgres: {admin: {user: 'ad"min'}}}}}"#.utf8)
            }, location: "compose.yaml:1:", message: "contains a double quote, which initdb cannot create"),
        Case(
            name: "a Redis password with a configuration line in it",
            file: {
                Data(
                    #"services: {cache: {image: "redis:7", x-devenv: {redis: {password: "x\nrequirepass \"\""}}}}"#.utf8
                )
            },
            location: "compose.yaml:1:", message: "password must not contain control characters"),
    ]

    /// Each case through `devenv config`: exit 2, the place, the reason, a short and printable
    /// message, and a peak memory (measured by the parent, a small Python) under 200 MB.
    @Test(arguments: cases) func refusedWithItsPlaceInBoundedMemory(_ hostile: Case) throws {
        let directory = NSTemporaryDirectory() + "devenv-hostile-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try hostile.file().write(to: URL(fileURLWithPath: directory + "/compose.yaml"))
        let (result, peakKiB) = try runMeasured([devenvExecutable().path, "config"], in: directory)
        #expect(result.status == 2, "\(result.stderr.prefix(500))")
        #expect(result.stderr.contains(hostile.location), "\(result.stderr.prefix(500))")
        #expect(result.stderr.contains(hostile.message), "\(result.stderr.prefix(500))")
        #expect(result.stderr.utf8.count < 2000, "the error echoes the file back: \(result.stderr.utf8.count) bytes")
        let raw = result.stderr.unicodeScalars.filter { $0.value < 0x20 && $0 != "\n" }
        #expect(raw.isEmpty, "raw control characters reach the terminal")
        #expect(peakKiB < 200 * 1024, "peak memory \(peakKiB / 1024) MB")
    }

    /// A warning, not an error: a role that may read the server's files is worth a word.
    @Test func grantingServerFileAccessWarns() throws {
        let directory = NSTemporaryDirectory() + "devenv-hostile-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try
            "services:\n  db:\n    image: postgres:15\n    x-devenv:\n      postgres:\n        roles: [{name: app, member_of: [pg_read_server_files]}]\n"
            .write(toFile: directory + "/compose.yaml", atomically: true, encoding: .utf8)
        let (result, _) = try runMeasured([devenvExecutable().path, "config"], in: directory)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("compose.yaml:6:"))
        #expect(
            result.stderr.contains(
                "warning: services.db.x-devenv.postgres.roles.app.member_of grants pg_read_server_files"))
    }

    /// 20,000 environment entries through `config` and `render kubernetes` (Yams' emitter took
    /// over 60 s): complete output, and a minute's bound, so a quadratic writer fails.
    @Test(.timeLimit(.minutes(1))) func twentyThousandEntriesAreWrittenWhole() throws {
        let directory = NSTemporaryDirectory() + "devenv-hostile-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try
            ("services:\n  web:\n    image: x\n    environment:\n"
            + (0..<20_000).map { "      VAR_\($0): value-\($0)\n" }.joined())
            .write(toFile: directory + "/compose.yaml", atomically: true, encoding: .utf8)
        let (config, _) = try runMeasured([devenvExecutable().path, "config"], in: directory)
        #expect(config.status == 0, "\(config.stderr)")
        let node = try #require(try YAMLReader.parse(config.stdout, file: "config.yaml"))
        let environment = node["services"]?["web"]?["environment"]
        #expect(environment?.mapping?.count == 20_000)
        #expect(environment?["VAR_19999"]?.scalar == "value-19999")
        let (render, _) = try runMeasured(
            [devenvExecutable().path, "render", "kubernetes", "-o", directory + "/k8s"], in: directory)
        #expect(render.status == 0, "\(render.stderr)")
        let manifests = try String(contentsOfFile: directory + "/k8s/web.yaml", encoding: .utf8)
        let documents = try YAMLReader.parseAll(manifests, file: "web.yaml")
        #expect(documents.contains { $0["data"]?.mapping?.count == 20_000 })
    }

    /// `command` runs under a Python that reports the child's peak resident memory (KiB).
    func runMeasured(_ command: [String], in directory: String) throws -> (ProcessResult, Int) {
        let report = directory + "/.peak"
        let python = ProcessInfo.processInfo.environment["DEVENV_TEST_PYTHON"] ?? "/usr/bin/python3"
        let script = """
            import resource, subprocess, sys
            code = subprocess.call(sys.argv[2:])
            open(sys.argv[1], "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
            sys.exit(code)
            """
        let result = try runProcess(
            URL(fileURLWithPath: python), ["-c", script, report] + command,
            environment: [
                "XDG_STATE_HOME": directory + "/.state", "DOCKER_HOST": "unix:///nonexistent.sock", "PWD": directory,
            ], currentDirectory: directory)
        let peak = Int((try? String(contentsOfFile: report, encoding: .utf8)) ?? "") ?? Int.max
        return (result, peak)
    }
}
