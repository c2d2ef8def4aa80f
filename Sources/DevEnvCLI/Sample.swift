import ArgumentParser
import DevEnvCore
import Foundation

struct Sample: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Capture sanitized, foreign-key-closed samples of a database; lint for unhandled personal data; audit a set.",
        subcommands: [Capture.self, Lint.self, Audit.self])

    /// The options capture and lint share.
    struct PolicyOptions: ParsableArguments {
        @Option(help: "postgresql:// URL of the source (opened read-only).") var from: String
        @Option(help: "A policy file (YAML) adding to or overriding the preset.") var policy: String?
        @Option(help: "Built-in rules: django.") var preset: String?

        func loadPolicy() throws -> SamplePolicy {
            var rules = SamplePolicy()
            if let preset {
                guard preset == "django" else {
                    throw CLIError(message: "unknown preset '\(preset)' (known: django)", exitCode: 2)
                }
                rules = SamplePolicy.django
            }
            if let policy { rules = rules.merged(with: try SamplePolicy.load(path: policy)) }
            return rules
        }
    }

    struct Capture: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a sanitized sample set (one COPY file per table and manifest.json).",
            discussion: """
                The key for the deterministic pseudonyms comes from DEVENV_SAMPLE_KEY or --key-file; it is
                never written. Capture fails (exit 1), writing nothing, while columns that look like personal
                data have no rule ('devenv sample lint' lists them), and when the audit it ends with finds an
                original value or an unpseudonymized e-mail, IP, token or path in what it wrote.
                """)

        @OptionGroup var source: PolicyOptions
        @Option(help: "The directory to write.") var out: String
        @Option(help: "TABLE:CONDITION selecting root rows (repeatable).") var subset: [String] = []
        @Option(help: "TABLE:N caps a table outside the subset (repeatable).") var limit: [String] = []
        @Option(help: "File holding the pseudonym key.") var keyFile: String?
        @Option(help: "The set's name (default: the directory's).") var name: String?
        @Option(help: "The database the set is for (default: the source's).") var database: String?
        @Option(help: "Write a per-column report (rule applied) as JSON.") var report: String?
        @Flag(help: "Skip the audit of what was written (not recommended).") var noAudit = false

        func run() async throws {
            let key = try Self.key(file: keyFile)
            let subsets = try subset.map { spec -> (table: String, condition: String) in
                guard let colon = spec.firstIndex(of: ":"), colon != spec.startIndex else {
                    throw CLIError(
                        message: "--subset \(spec): expected TABLE:CONDITION, e.g. runs:'id <= 100'", exitCode: 2)
                }
                return (String(spec[..<colon]), String(spec[spec.index(after: colon)...]))
            }
            var limits: [String: Int] = [:]
            for spec in limit {
                let parts = spec.split(separator: ":")
                guard parts.count == 2, let count = Int(parts[1]), count >= 0 else {
                    throw CLIError(message: "--limit \(spec): expected TABLE:N", exitCode: 2)
                }
                limits[String(parts[0])] = count
            }
            let options = CaptureOptions(
                subsets: subsets, limits: limits, policy: try source.loadPolicy(),
                name: name ?? (out as NSString).lastPathComponent, database: database)
            let (url, out, audit) = (source.from, self.out, !noAudit)
            let started = Date()
            let result: SampleCapture.Result
            do {
                result = try await offCooperativePool {
                    try SampleCapture(url: url, options: options).capture(
                        into: out, pseudonymizer: Pseudonymizer(key: key), audit: audit)
                }
            } catch let failure as SampleLintFailure {
                printError("devenv: capture refused: \(failure.description)")
                printError("devenv: add rules with --policy FILE (or --preset django), then capture again")
                throw CommandFailure(exitCode: 1)
            } catch let failure as SampleAuditFailure {
                printError("devenv: capture refused, nothing written to \(out): its audit found \(failure.description)")
                printError(
                    "devenv: give those columns a rule in --policy FILE (or mark the source column identity: true), then capture again"
                )
                throw CommandFailure(exitCode: 1)
            }
            if let report {
                try Output(json: true).json(result.report).write(to: URL(fileURLWithPath: report))
            }
            let rows = result.manifest.tables.reduce(0) { $0 + $1.rows }
            print(
                String(
                    format: "captured %@: %d tables, %d rows into %@ in %.2fs", result.manifest.name,
                    result.manifest.tables.count, rows,
                    out, Date().timeIntervalSince(started)))
            if let audit = result.audit { print("audited: \(audit.summary); nothing personal found") }
        }

        static func key(file: String?) throws -> Data {
            let text: String?
            if let file {
                text = try? String(contentsOfFile: file, encoding: .utf8)
                if text == nil { throw CLIError(message: "cannot read key file \(file)", exitCode: 2) }
            } else {
                text = ProcessInfo.processInfo.environment["DEVENV_SAMPLE_KEY"]
            }
            guard let key = text?.trimmingCharacters(in: .whitespacesAndNewlines), key.utf8.count >= 16 else {
                throw CLIError(
                    message:
                        "a pseudonym key of at least 16 characters is needed: set DEVENV_SAMPLE_KEY or pass --key-file FILE",
                    exitCode: 2)
            }
            return Data(key.utf8)
        }
    }

    struct Audit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that a sample set holds no original personal value of its source.",
            discussion: """
                Re-reads the source's identity columns (names, usernames, e-mails, columns marked identity: true)
                under the policy, and scans every file of SET for those values (whole words, any case) and for
                e-mail addresses, URL passwords and EOS paths that are not pseudonyms (IPs and tokens too, in
                free-text columns). Exit 1 lists table, column, row and the source column a value came from,
                never the value; exit 0 prints the counts; exit 2 for a set changed after capture. With the
                capture's key (DEVENV_SAMPLE_KEY or --key-file) the audit knows the pseudonyms exactly; without
                it, originals made only of the words pseudonyms use (Anna, Weber) cannot be told from them and
                are not looked for.
                """)

        @Argument(help: "The sample set's directory.") var set: String
        @OptionGroup var source: PolicyOptions
        @Option(help: "File holding the capture's pseudonym key (default: DEVENV_SAMPLE_KEY, if set).")
        var keyFile: String?
        @Flag(help: "Print the report as JSON.") var json = false

        func run() async throws {
            let options = CaptureOptions(policy: try source.loadPolicy(), name: "audit")
            let (url, set) = (source.from, self.set)
            // With the key, an original that no pseudonym equals is looked for even when it is
            // made of pseudonym name words (Anna Weber).
            let key =
                keyFile != nil || ProcessInfo.processInfo.environment["DEVENV_SAMPLE_KEY"] != nil
                ? try Capture.key(file: keyFile) : nil
            let report = try await offCooperativePool {
                try SampleCapture(url: url, options: options).audit(
                    set: set, pseudonymizer: key.map { Pseudonymizer(key: $0) })
            }
            if json {
                try Output(json: true).printJSON(report)
            } else {
                for finding in report.findings { print(finding.description) }
                for (source, reason) in report.notLookedFor.sorted(by: { $0.key < $1.key }) {
                    printError("devenv: not looked for, from \(source): \(reason)")
                }
                if report.ok {
                    print("audited \(set): \(report.summary); nothing personal found")
                } else {
                    printError("devenv: \(report.findings.count) value(s) of personal data in \(set)")
                }
            }
            if !report.ok { throw CommandFailure(exitCode: 1) }
        }
    }

    struct Lint: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List columns that look like personal data (by name or content) and have no rule; exit 1 if any.")

        @OptionGroup var source: PolicyOptions

        func run() async throws {
            let options = CaptureOptions(policy: try source.loadPolicy(), name: "lint")
            let url = source.from
            let findings = try await offCooperativePool { try SampleCapture(url: url, options: options).lint() }
            if findings.isEmpty {
                print("no unhandled personal data found")
                return
            }
            for finding in findings { print(finding.description) }
            printError("devenv: \(findings.count) column(s) need a rule")
            throw CommandFailure(exitCode: 1)
        }
    }
}
