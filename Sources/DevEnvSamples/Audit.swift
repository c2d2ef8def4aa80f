import DevEnvModel
import Foundation

/// One value of a sample set that is personal data: an original value of the source, or an
/// e-mail, IP, token, URL credential or EOS path that is not a pseudonym. It never holds the
/// value itself.
public struct AuditFinding: Sendable, Equatable, Codable, CustomStringConvertible {
    public var table: String
    public var column: String
    /// The row's line in the table's file (1-based).
    public var row: Int
    /// The source column the original value came from.
    public var source: String?
    /// What kind of value it looks like, when it matched a pattern.
    public var pattern: String?

    public var description: String {
        "\(table).\(column) row \(row): "
            + (source.map { "holds an original value of \($0)" }
                ?? "holds \(pattern ?? "a value") that is not a pseudonym")
    }
}

/// What an audit checked, and what it found.
public struct AuditReport: Sendable, Encodable {
    public var files = 0
    public var rows = 0
    /// Values looked at closely (the rest could hold nothing personal by their bytes).
    public var valuesChecked = 0
    /// Original values looked for, and the source columns they came from.
    public var originals = 0
    public var sourceColumns = 0
    /// Per source column, values not looked for and why (as the capture leaves them).
    public var notLookedFor: [String: String] = [:]
    public var findings: [AuditFinding] = []

    public var ok: Bool { findings.isEmpty }

    enum CodingKeys: String, CodingKey {
        case files, rows, originals, findings, ok
        case valuesChecked = "values_checked"
        case sourceColumns = "source_columns"
        case notLookedFor = "not_looked_for"
    }

    public init() {}

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ok, forKey: .ok)
        try container.encode(files, forKey: .files)
        try container.encode(rows, forKey: .rows)
        try container.encode(valuesChecked, forKey: .valuesChecked)
        try container.encode(originals, forKey: .originals)
        try container.encode(sourceColumns, forKey: .sourceColumns)
        try container.encode(notLookedFor, forKey: .notLookedFor)
        try container.encode(findings, forKey: .findings)
    }

    /// The counts, for exit 0.
    public var summary: String {
        "\(files) files, \(rows) rows, \(valuesChecked) values checked against \(originals) original values from \(sourceColumns) source columns"
    }
}

/// Capture (or a set on disk) failed its audit: `report.findings` name where, never what.
public struct SampleAuditFailure: Error, Sendable, CustomStringConvertible {
    public var report: AuditReport
    public var description: String {
        "\(report.findings.count) value(s) of personal data left in the set:\n"
            + report.findings.prefix(50).map { "  \($0)" }.joined(separator: "\n")
            + (report.findings.count > 50 ? "\n  … and \(report.findings.count - 50) more (--json lists all)" : "")
    }
}

/// Checks values of a sample set, one at a time: fed by a capture as it writes, or by
/// `devenv sample audit` reading a set back.
final class SampleAuditor {
    let known: KnownValues
    var report = AuditReport()

    init(known: KnownValues) {
        self.known = known
        report.originals = known.values.count
        report.sourceColumns = Set(known.values.map(\.source)).count
        for (source, line) in known.summary where line.contains("not propagated") {
            report.notLookedFor[source] = String(line[line.range(of: "not propagated: ")!.upperBound...])
        }
    }

    /// Column types whose values can hold text.
    static let textual: Set<String> = SampleCapture.textTypes.union(["json", "jsonb", "_text", "_varchar", "name"])

    /// Whether a field's bytes could hold anything `check` finds (one byte scan).
    func mayFind(bytes: UnsafeRawBufferPointer) -> Bool {
        Pseudonymizer.mayHoldPersonalData(bytes: bytes) || known.mayMatch(bytes: bytes)
    }

    /// Checks one field's bytes (COPY text); `freeText` columns (the `text` and `json` rules)
    /// are also checked for IPs and tokens, which other columns hold as data (versions, digests).
    func check(table: String, column: String, row: Int, bytes: UnsafeRawBufferPointer, freeText: Bool) {
        guard mayFind(bytes: bytes) else { return }
        guard let value = CopyText.decode(Substring(String(decoding: bytes, as: UTF8.self))) else { return }
        check(table: table, column: column, row: row, value: value, freeText: freeText)
    }

    func check(table: String, column: String, row: Int, value: String, freeText: Bool) {
        var text = value
        let hints = text.withUTF8 { bytes in
            Pseudonymizer.Hints(bytes).union(known.mayMatch(bytes: UnsafeRawBufferPointer(bytes)) ? [.known] : [])
        }
        guard !hints.isEmpty else { return }
        report.valuesChecked += 1
        var sources: [String] = []
        for match in known.matches(in: value) where !sources.contains(match.value.source) {
            sources.append(match.value.source)
        }
        for source in sources {
            report.findings.append(AuditFinding(table: table, column: column, row: row, source: source))
        }
        for pattern in Self.patterns(in: value, freeText: freeText, hints: hints) {
            report.findings.append(AuditFinding(table: table, column: column, row: row, pattern: pattern))
        }
    }

    static let pseudonymUser = try! NSRegularExpression(
        pattern: "^[a-z](" + Pseudonymizer.lastNames.map { $0.lowercased() }.joined(separator: "|") + ")[0-9]{1,3}$")

    /// The kinds of personal data in `value` that no pseudonym looks like.
    static func patterns(in value: String, freeText: Bool, hints: Pseudonymizer.Hints? = nil) -> [String] {
        let hints = hints ?? Pseudonymizer.Hints(value.utf8)
        let range = NSRange(location: 0, length: (value as NSString).length)
        var kinds: [String] = []
        func groups(_ pattern: NSRegularExpression) -> [[String]] {
            pattern.matches(in: value, range: range).map { match in
                (0..<match.numberOfRanges).map {
                    let part = match.range(at: $0)
                    return part.location == NSNotFound ? "" : (value as NSString).substring(with: part)
                }
            }
        }
        if hints.contains(.at), groups(Pseudonymizer.credentialPattern).contains(where: { $0[3] != "redacted" }) {
            kinds.append("a password in a URL")
        }
        if hints.contains(.at),
            groups(Pseudonymizer.emailPattern).contains(where: { !$0[0].lowercased().hasSuffix("@example.org") })
        {
            kinds.append("an e-mail address")
        }
        if hints.contains(.slash),
            groups(Pseudonymizer.eosPattern).contains(where: {
                pseudonymUser.firstMatch(in: $0[1], range: NSRange(location: 0, length: ($0[1] as NSString).length))
                    == nil
            })
        {
            kinds.append("an EOS user path")
        }
        if freeText {
            if hints.contains(.dottedDigit),
                groups(Pseudonymizer.ipv4Pattern).contains(where: { !$0[0].hasPrefix("10.") })
            {
                kinds.append("an IP address")
            }
            // Pseudonym tokens are lowercase hex; UUIDs keep their hyphens.
            let hex = CharacterSet(charactersIn: "0123456789abcdef-")
            if hints.contains(.longRun),
                groups(Pseudonymizer.tokenPattern).contains(where: {
                    !$0[0].unicodeScalars.allSatisfy(hex.contains)
                })
            {
                kinds.append("a token")
            }
        }
        return kinds
    }
}

extension SampleCapture {
    /// Reads a set back and checks every value of it against this source's originals. With
    /// the capture's key (`pseudonymizer`), only originals that are some pseudonym exactly go
    /// unchecked; without it, every one made of pseudonym name words.
    public func audit(set directory: String, pseudonymizer: Pseudonymizer? = nil) throws -> AuditReport {
        let set = try SampleSet(directory: directory)
        let identities = try identityColumns()
        let auditor = SampleAuditor(
            known: Self.auditValues(identities, pseudonyms: pseudonymizer.map { Self.knownValues(identities, $0) }))
        for entry in set.manifest.tables {
            let path = (directory as NSString).appendingPathComponent(entry.file)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw DevEnvError("cannot read \(path)", exitCode: 2)
            }
            guard SampleSet.digestOf(data) == entry.sha256 else {
                throw DevEnvError(
                    "\(path) was changed after capture: its SHA-256 is not the one manifest.json records; capture the set again (or restore the file) before auditing it",
                    exitCode: 2)
            }
            let key = entry.schema == "public" ? entry.name : "\(entry.schema).\(entry.name)"
            let rules = Dictionary(columnRules(key).map { ($0.0.name, ($0.0, $0.1)) }) { first, _ in first }
            auditor.report.files += 1
            if entry.format == "csv" {
                // A hand-made CSV set: each line is checked as one value.
                for (index, line) in String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated() {
                    auditor.check(table: key, column: "*", row: index + 1, value: String(line), freeText: true)
                    auditor.report.rows += 1
                }
                continue
            }
            let columns = entry.columns.map { name -> (name: String, audited: Bool, freeText: Bool) in
                // A column the source no longer has is checked as free text.
                guard let (column, rule) = rules[name] else { return (name, true, true) }
                let freeText: Bool
                switch rule {
                case .text, .json: freeText = true
                default: freeText = false
                }
                return (name, SampleAuditor.textual.contains(column.baseType), freeText)
            }
            data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
                var row = 0
                var field = 0
                var start = 0
                for index in 0..<bytes.count where bytes[index] == 0x09 || bytes[index] == 0x0A {
                    if field < columns.count, columns[field].audited {
                        auditor.check(
                            table: key, column: columns[field].name, row: row + 1,
                            bytes: UnsafeRawBufferPointer(rebasing: bytes[start..<index]),
                            freeText: columns[field].freeText)
                    }
                    start = index + 1
                    if bytes[index] == 0x0A {
                        row += 1
                        field = 0
                    } else {
                        field += 1
                    }
                }
                auditor.report.rows += row
            }
        }
        return auditor.report
    }
}
