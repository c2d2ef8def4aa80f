import Crypto
import DevEnvModel
import DevEnvProvisioning
import DevEnvRuntime
import Foundation
import Postgres

/// Options of `devenv sample capture` / `lint`.
public struct CaptureOptions: Sendable {
    /// `TABLE:CONDITION` roots of the subset.
    public var subsets: [(table: String, condition: String)]
    /// `TABLE:N` caps for tables outside the subset.
    public var limits: [String: Int]
    public var policy: SamplePolicy
    public var name: String
    /// The database the set is for (default: the source's name).
    public var database: String?

    public init(
        subsets: [(table: String, condition: String)] = [], limits: [String: Int] = [:], policy: SamplePolicy,
        name: String, database: String? = nil
    ) {
        self.subsets = subsets
        self.limits = limits
        self.policy = policy
        self.name = name
        self.database = database
    }
}

/// A column that looks like personal data and has no rule.
public struct LintFinding: Sendable, Equatable, CustomStringConvertible {
    public var table: String
    public var column: String
    public var reason: String
    public var description: String { "\(table).\(column): \(reason)" }
}

/// Reads a source database in one read-only, repeatable-read snapshot and writes a sanitized,
/// foreign-key-closed sample set. Blocking (libpq): run it off the cooperative pool.
public final class SampleCapture {
    struct Column {
        var name: String
        var type: String
        var baseType: String
        var typmod: Int
    }
    struct ForeignKey {
        var table: String
        var columns: [String]
        var parent: String
        var parentColumns: [String]
    }
    struct Table {
        var schema: String
        var name: String
        var key: String { schema == "public" ? name : "\(schema).\(name)" }
        var columns: [Column]
        var primaryKey: [String]
    }

    let db: PostgresConnection
    let options: CaptureOptions
    var tables: [String: Table] = [:]
    var order: [String] = []
    var foreignKeys: [ForeignKey] = []
    var uniqueColumns: Set<String> = []

    public init(url: String, options: CaptureOptions) throws {
        db = try PostgresConnection(url: url)
        self.options = options
        try db.executeScript("SET default_transaction_read_only = on; BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try readCatalog()
        try checkIdentityMarks()
    }

    deinit { db.close() }

    func quoted(_ table: Table) throws -> String {
        "\(try db.quoteIdentifier(table.schema)).\(try db.quoteIdentifier(table.name))"
    }

    // MARK: catalog

    func readCatalog() throws {
        let rows = try db.execute(
            """
            SELECT c.oid, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND n.nspname NOT LIKE 'pg_toast%' AND c.relname <> '\(Seeder.ledgerTable)'
            ORDER BY n.nspname, c.relname
            """
        ).rows
        var byOID: [String: String] = [:]
        for row in rows {
            let table = Table(schema: row[1]!, name: row[2]!, columns: [], primaryKey: [])
            tables[table.key] = table
            byOID[row[0]!] = table.key
        }
        let columns = try db.execute(
            """
            SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), t.typname, a.atttypmod
            FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid JOIN pg_class c ON c.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
            ORDER BY a.attrelid, a.attnum
            """
        ).rows
        for row in columns {
            guard let key = byOID[row[0]!] else { continue }
            tables[key]?.columns.append(
                Column(name: row[1]!, type: row[2]!, baseType: row[3]!, typmod: Int(row[4] ?? "-1") ?? -1))
        }
        let constraints = try db.execute(
            """
            SELECT c.conrelid, c.contype, c.confrelid,
              ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i)::text,
              ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                    JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)::text
            FROM pg_constraint c WHERE c.contype IN ('p', 'f', 'u') ORDER BY c.conrelid, c.conname
            """
        ).rows
        for row in constraints {
            guard let key = byOID[row[0]!] else { continue }
            let columns = Self.parseArray(row[3] ?? "{}")
            switch row[1] {
            case "p": tables[key]?.primaryKey = columns
            case "u": if columns.count == 1 { uniqueColumns.insert("\(key).\(columns[0])") }
            case "f":
                guard let parent = byOID[row[2] ?? ""] else { continue }
                foreignKeys.append(
                    ForeignKey(
                        table: key, columns: columns, parent: parent, parentColumns: Self.parseArray(row[4] ?? "{}")))
            default: break
            }
        }
        order = Self.loadOrder(tables.keys.sorted(), foreignKeys)
    }

    /// Parents before children; what a cycle leaves is appended in name order (seed defers it).
    static func loadOrder(_ names: [String], _ keys: [ForeignKey]) -> [String] {
        var pending = names
        var placed: [String] = []
        while !pending.isEmpty {
            let ready = pending.filter { name in
                keys.allSatisfy {
                    $0.table != name || $0.parent == name || placed.contains($0.parent) || !pending.contains($0.parent)
                }
            }
            let next = ready.isEmpty ? [pending[0]] : ready
            placed += next
            pending.removeAll { next.contains($0) }
        }
        return placed
    }

    /// `{a,"b c"}` → `["a", "b c"]` (PostgreSQL array text of names).
    static func parseArray(_ text: String) -> [String] {
        var items: [String] = []
        var current = ""
        var quoted = false
        var escaping = false
        for char in text.dropFirst().dropLast() {
            if escaping {
                current.append(char)
                escaping = false
            } else if char == "\\" {
                escaping = true
            } else if char == "\"" {
                quoted.toggle()
            } else if char == "," && !quoted {
                items.append(current)
                current = ""
            } else {
                current.append(char)
            }
        }
        if !text.isEmpty && text != "{}" { items.append(current) }
        return items
    }

    /// A PostgreSQL array literal of text values.
    static func arrayLiteral(_ values: [String]) -> String {
        "{"
            + values.map {
                "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                    + "\""
            }
            .joined(separator: ",") + "}"
    }

    // MARK: rules and lint

    func tableRule(_ key: String) -> TableRule {
        options.policy.rule(table: key) ?? options.policy.rule(table: tables[key]?.name ?? key) ?? .columns([:])
    }

    func isFreeText(_ column: Column) -> Bool {
        column.baseType == "text" || (column.baseType == "varchar" && (column.typmod < 0 || column.typmod - 4 > 255))
    }

    /// The rule for each column: the policy's, else `text` for free text and `json` scrub for
    /// JSON, else `keep`; and whether it was chosen explicitly.
    func columnRules(_ key: String) -> [(Column, ColumnRule, explicit: Bool)] {
        guard case .columns(let rules) = tableRule(key), let table = tables[key] else { return [] }
        return table.columns.map { column in
            if let rule = rules[column.name] { return (column, rule, true) }
            if ["json", "jsonb"].contains(column.baseType) { return (column, .json([:]), false) }
            if isFreeText(column) { return (column, .text, false) }
            return (column, .keep, false)
        }
    }

    static let piiName = try! NSRegularExpression(
        pattern:
            #"(^|_)(e?mail|email_address|name|first_?name|last_?name|full_?name|surname|user_?name|username|login|ip|ip_?address|addr|address|token|secret|password|passwd|phone|mobile|telephone|ssn|birth(day|date)?|iban|card|upn|uid|person|owner_name)($|_)"#,
        options: [.caseInsensitive])
    static let contentPatterns = [Pseudonymizer.emailPattern, Pseudonymizer.ipv4Pattern, Pseudonymizer.eosPattern]

    /// Columns that look like personal data (by name, or by a sample of their values) and have
    /// no rule. Keys and foreign keys are ids, not personal data.
    public func lint() throws -> [LintFinding] {
        var findings: [LintFinding] = []
        for key in order {
            guard let table = tables[key] else { continue }
            let keyColumns = Set(table.primaryKey + foreignKeys.filter { $0.table == key }.flatMap(\.columns))
            for (column, _, explicit) in columnRules(key) where !explicit && !keyColumns.contains(column.name) {
                if isFreeText(column) || ["json", "jsonb"].contains(column.baseType) { continue }
                // Numbers, dates and flags are not personal data by their name alone (last_login).
                let stringLike = ["varchar", "bpchar", "citext", "inet", "cidr", "bytea"].contains(column.baseType)
                guard stringLike else { continue }
                let range = NSRange(location: 0, length: (column.name as NSString).length)
                if Self.piiName.firstMatch(in: column.name, range: range) != nil {
                    findings.append(
                        LintFinding(
                            table: key, column: column.name,
                            reason: "its name looks like personal data; add a rule (keep if it is not)"))
                    continue
                }
                guard ["varchar", "bpchar", "citext", "inet", "cidr"].contains(column.baseType) else { continue }
                let sample = try db.execute(
                    "SELECT \(try db.quoteIdentifier(column.name))::text FROM \(try quoted(table)) WHERE \(try db.quoteIdentifier(column.name)) IS NOT NULL LIMIT 200"
                ).rows.compactMap { $0[0] }
                if column.baseType == "inet" || column.baseType == "cidr"
                    || sample.contains(where: { value in
                        Self.contentPatterns.contains {
                            $0.firstMatch(in: value, range: NSRange(location: 0, length: (value as NSString).length))
                                != nil
                        }
                    })
                {
                    findings.append(
                        LintFinding(
                            table: key, column: column.name,
                            reason: "its values look like e-mail addresses, IPs or EOS user paths; add a rule"))
                }
            }
        }
        return findings
    }

    // MARK: subset

    /// The rows to take, by primary key, for the tables the subset reaches; tables absent here
    /// are taken whole (filtered to rows whose references into subset tables are kept).
    func selection() throws -> [String: Set<String>] {
        var selected: [String: Set<String>] = [:]
        func requireKey(_ key: String) throws -> (Table, String) {
            guard let table = tables[key] else { throw DevEnvError("no table \(key) in the source", exitCode: 2) }
            guard table.primaryKey.count == 1 else {
                throw DevEnvError(
                    "table \(key) has no single-column primary key; subsetting needs one (leave it whole)", exitCode: 2)
            }
            return (table, table.primaryKey[0])
        }
        func keys(
            _ table: Table, _ primaryKey: String, where condition: String, _ parameters: [String?] = []
        ) throws -> Set<String> {
            let sql = "SELECT \(try db.quoteIdentifier(primaryKey))::text FROM \(try quoted(table)) WHERE \(condition)"
            return Set(try db.execute(sql, parameters).rows.compactMap { $0[0] })
        }
        // Roots, then their descendants (children are followed from roots only).
        var frontier: [String] = []
        for root in options.subsets {
            let (table, primaryKey) = try requireKey(root.table)
            do {
                selected[table.key, default: []].formUnion(try keys(table, primaryKey, where: "(\(root.condition))"))
            } catch let error as PostgresError {
                throw DevEnvError("--subset \(root.table):\(root.condition): \(error.message)", exitCode: 2)
            }
            frontier.append(table.key)
        }
        var visited = Set(frontier)
        while let parentKey = frontier.popLast() {
            for fk in foreignKeys where fk.parent == parentKey && fk.columns.count == 1 && fk.table != parentKey {
                guard let (child, childKey) = try? requireKey(fk.table), let values = selected[parentKey] else {
                    continue
                }
                let parentType = tables[parentKey]?.columns.first { $0.name == fk.parentColumns[0] }?.type ?? "text"
                let referenced =
                    fk.parentColumns[0] == tables[parentKey]?.primaryKey.first
                    ? Array(values)
                    : try db.execute(
                        "SELECT \(try db.quoteIdentifier(fk.parentColumns[0]))::text FROM \(try quoted(tables[parentKey]!)) WHERE \(try db.quoteIdentifier(tables[parentKey]!.primaryKey[0]))::text = ANY($1::text[])",
                        [Self.arrayLiteral(values.sorted())]
                    ).rows.compactMap { $0[0] }
                let found = try keys(
                    child, childKey, where: "\(try db.quoteIdentifier(fk.columns[0])) = ANY($1::\(parentType)[])",
                    [Self.arrayLiteral(referenced.sorted())])
                let before = selected[child.key]?.count ?? 0
                selected[child.key, default: []].formUnion(found)
                if visited.insert(child.key).inserted || (selected[child.key]?.count ?? 0) > before {
                    frontier.append(child.key)
                }
            }
        }
        for (name, limit) in options.limits where selected[name] == nil {
            let (table, primaryKey) = try requireKey(name)
            let column = try db.quoteIdentifier(primaryKey)
            selected[table.key] = try keys(
                table, primaryKey,
                where: "\(column) IN (SELECT \(column) FROM \(try quoted(table)) ORDER BY 1 LIMIT \(limit))")
        }
        // Parents of everything selected, transitively (cycles end when nothing grows).
        var grew = true
        while grew {
            grew = false
            for fk in foreignKeys where fk.columns.count == 1 {
                // A parent table joins the subset with just the rows referenced (a table without a
                // single-column key stays whole, which holds every row anyway).
                guard let childRows = selected[fk.table], !childRows.isEmpty, case .columns = tableRule(fk.parent),
                    let child = tables[fk.table], let parent = tables[fk.parent], parent.primaryKey.count == 1
                else { continue }
                let values = try db.execute(
                    "SELECT DISTINCT \(try db.quoteIdentifier(fk.columns[0]))::text FROM \(try quoted(child)) WHERE \(try db.quoteIdentifier(child.primaryKey[0]))::text = ANY($1::text[]) AND \(try db.quoteIdentifier(fk.columns[0])) IS NOT NULL",
                    [Self.arrayLiteral(childRows.sorted())]
                ).rows.compactMap { $0[0] }
                guard !values.isEmpty else { continue }
                let parents = try keys(
                    parent, parent.primaryKey[0],
                    where: "\(try db.quoteIdentifier(fk.parentColumns[0]))::text = ANY($1::text[])",
                    [Self.arrayLiteral(values.sorted())])
                let before = selected[fk.parent]?.count ?? 0
                selected[fk.parent, default: []].formUnion(parents)
                if (selected[fk.parent]?.count ?? 0) > before { grew = true }
            }
        }
        return selected
    }

    // MARK: export

    public struct Result: Sendable {
        public var manifest: SampleManifest
        /// Per column: rule, and how many values it changed.
        public var report: [String: [String: String]]
        /// What the audit at the end checked (nil with `audit: false`).
        public var audit: AuditReport?
    }

    /// Writes the sample set into `directory` (created; existing table files replaced). With
    /// `audit`, every value written is checked as `devenv sample audit` would: a leak throws
    /// `SampleAuditFailure` and `directory` is left as it was.
    public func capture(into directory: String, pseudonymizer: Pseudonymizer, audit: Bool = true) throws -> Result {
        let findings = try lint()
        if !findings.isEmpty {
            throw SampleLintFailure(findings: findings)
        }
        let selected = try selection()
        let identities = try identityColumns()
        let known = Self.knownValues(identities, pseudonymizer)
        pseudonymizer.learn(known)
        let auditor = audit ? SampleAuditor(known: Self.auditValues(identities, pseudonyms: known)) : nil
        // Written aside, then moved into place: a failed capture leaves no half-written set.
        let staging = try Self.stagingDirectory(for: directory)
        defer { try? FileManager.default.removeItem(atPath: staging) }
        var manifestTables: [SampleManifest.Table] = []
        var report: [String: [String: String]] = [:]
        for key in order {
            guard let table = tables[key], case .columns = tableRule(key) else { continue }
            let rules = columnRules(key)
            let audited = rules.map { SampleAuditor.textual.contains($0.0.baseType) }
            let freeText = rules.map { rule -> Bool in
                switch rule.1 {
                case .text, .json: true
                default: false
                }
            }
            var rowNumber = 0
            let columns = try rules.map { try db.quoteIdentifier($0.0.name) }.joined(separator: ", ")
            var conditions: [String] = []
            if let keys = selected[key] {
                conditions.append(
                    "\(try db.quoteIdentifier(table.primaryKey[0]))::text = ANY(\(try db.quoteLiteral(Self.arrayLiteral(keys.sorted())))::text[])"
                )
            } else {
                // A whole table keeps only rows whose references into subset tables are kept.
                for fk in foreignKeys where fk.table == key && fk.columns.count == 1 {
                    guard let parentKeys = selected[fk.parent], let parent = tables[fk.parent] else { continue }
                    let allowed: [String]
                    if fk.parentColumns[0] == parent.primaryKey.first {
                        allowed = parentKeys.sorted()
                    } else {
                        allowed = try db.execute(
                            "SELECT \(try db.quoteIdentifier(fk.parentColumns[0]))::text FROM \(try quoted(parent)) WHERE \(try db.quoteIdentifier(parent.primaryKey[0]))::text = ANY($1::text[])",
                            [Self.arrayLiteral(parentKeys.sorted())]
                        ).rows.compactMap { $0[0] }.sorted()
                    }
                    let column = try db.quoteIdentifier(fk.columns[0])
                    conditions.append(
                        "(\(column) IS NULL OR \(column)::text = ANY(\(try db.quoteLiteral(Self.arrayLiteral(allowed)))::text[]))"
                    )
                }
            }
            let orderBy = (table.primaryKey.isEmpty ? table.columns.map(\.name) : table.primaryKey)
            let orderClause = try orderBy.map { try db.quoteIdentifier($0) }.joined(separator: ", ")
            let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
            let sql =
                "COPY (SELECT \(columns) FROM \(try quoted(table))\(whereClause) ORDER BY \(orderClause)) TO STDOUT"

            let file = "\(table.schema).\(table.name).copy"
            let path = (staging as NSString).appendingPathComponent(file)
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            guard let handle = FileHandle(forWritingAtPath: path) else {
                throw DevEnvError("cannot write \(path)")
            }
            defer { try? handle.close() }
            var hasher = SHA256()
            var buffer: [UInt8] = []
            buffer.reserveCapacity(1 << 21)
            let transforming = rules.map { $0.1 != .keep }
            // Per field, what the row loop needs without copying a rule (an enum with payloads).
            let isText = rules.map { $0.1 == .text }
            let names = rules.map(\.0.name)
            let anyWork = transforming.contains(true) || (auditor != nil && audited.contains(true))
            let rowCount = try db.copyOut(sql) { row in
                rowNumber += 1
                guard anyWork else {
                    buffer.append(contentsOf: row)
                    flush(&buffer, &hasher, handle)
                    return
                }
                // Fields are tab-separated bytes; only those whose rule may change them are
                // decoded, and a row is copied in one piece up to the first field that changed.
                let end = row.count - 1  // the newline
                var field = 0
                var start = 0
                var copied = 0
                for index in 0...end where index == end || row[index] == 0x09 {
                    let raw = UnsafeRawBufferPointer(rebasing: row[start..<index])
                    if field < rules.count {
                        if transforming[field], !isText[field] || pseudonymizer.mayChange(bytes: raw) {
                            let rule = rules[field].1
                            let value = CopyText.decode(Substring(String(decoding: raw, as: UTF8.self)))
                            let output = pseudonymizer.apply(rule, to: value)
                            if output != value {
                                buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: row[copied..<start]))
                                buffer.append(contentsOf: CopyText.encode(output).utf8)
                                copied = index
                            }
                            if let auditor, audited[field], let output {
                                auditor.check(
                                    table: key, column: names[field], row: rowNumber, value: output,
                                    freeText: freeText[field])
                            }
                        } else if let auditor, audited[field], !isText[field], auditor.mayFind(bytes: raw) {
                            // (A `text` field the scrubber's prefilter passed holds nothing to find.)
                            auditor.check(
                                table: key, column: names[field], row: rowNumber, bytes: raw,
                                freeText: freeText[field])
                        }
                    }
                    field += 1
                    start = index + 1
                }
                buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: row[copied...]))
                flush(&buffer, &hasher, handle)
            }
            hasher.update(data: buffer)
            handle.write(Data(buffer))
            manifestTables.append(
                SampleManifest.Table(
                    schema: table.schema, name: table.name, file: file, columns: rules.map(\.0.name), rows: rowCount,
                    sha256: hasher.finalize().hexadecimal))
            report[key] = Dictionary(
                uniqueKeysWithValues: rules.map {
                    (
                        $0.0.name,
                        $0.1.description + ($0.2 ? "" : " (default)")
                            + (isIdentityMarked(table, $0.0.name) ? " (identity)" : "")
                    )
                })
            auditor?.report.files += 1
            auditor?.report.rows += rowCount
        }
        report[Self.propagationReportKey] = known.summary
        if let auditor, !auditor.report.ok {
            throw SampleAuditFailure(report: auditor.report)
        }
        let subsetText =
            (options.subsets.map { "subset \($0.table): \($0.condition)" }
            + options.limits.sorted { $0.key < $1.key }.map { "limit \($0.key): \($0.value)" })
            .joined(separator: "; ")
        let manifest = SampleManifest(
            name: options.name, database: options.database ?? db.database, tables: manifestTables,
            sourceSchemaHash: schemaDigest(), policyHash: options.policy.digest,
            subset: subsetText.isEmpty ? nil : subsetText)
        try SampleSet.write(manifest, to: staging)
        try Self.moveIntoPlace(staging, directory, replacing: manifestTables.map(\.file))
        return Result(manifest: manifest, report: report, audit: auditor?.report)
    }

    /// The report's entry for what was propagated into free text, per source column.
    public static let propagationReportKey = "_propagated"

    /// A new directory beside `directory`, for the set while it is written.
    static func stagingDirectory(for directory: String) throws -> String {
        let url = URL(fileURLWithPath: directory).standardizedFileURL
        let parent = url.deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            let staging = parent + "/.\(url.lastPathComponent).capturing-\(getpid())"
            try? FileManager.default.removeItem(atPath: staging)
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: false)
            return staging
        } catch {
            throw DevEnvError("cannot write \(directory): \(error.localizedDescription)", exitCode: 1)
        }
    }

    /// Moves the written set into `directory`: its files replace those of the same name, and
    /// the table files of the set that was there before are removed (other files stay).
    static func moveIntoPlace(_ staging: String, _ directory: String, replacing files: [String]) throws {
        let manager = FileManager.default
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let previous = (try? SampleSet(directory: directory))?.manifest.tables.map(\.file) ?? []
        for file in previous where !files.contains(file) {
            try? manager.removeItem(atPath: (directory as NSString).appendingPathComponent(file))
        }
        for file in files + [SampleSet.manifestName] {
            let target = (directory as NSString).appendingPathComponent(file)
            guard rename((staging as NSString).appendingPathComponent(file), target) == 0 else {
                throw DevEnvError("cannot move \(file) into \(directory): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Writes the buffer out once it passes 1 MB.
    func flush(_ buffer: inout [UInt8], _ hasher: inout SHA256, _ handle: FileHandle) {
        guard buffer.count > 1 << 20 else { return }
        hasher.update(data: buffer)
        handle.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }

    func schemaDigest() -> String {
        var text = ""
        for key in order {
            guard let table = tables[key] else { continue }
            text +=
                "\(key)(\(table.columns.map { "\($0.name) \($0.type)" }.joined(separator: ","))) pk(\(table.primaryKey.joined(separator: ",")))\n"
        }
        for fk in foreignKeys.sorted(by: {
            ($0.table, $0.columns.joined(separator: ",")) < ($1.table, $1.columns.joined(separator: ","))
        }) {
            text +=
                "fk \(fk.table)(\(fk.columns.joined(separator: ","))) -> \(fk.parent)(\(fk.parentColumns.joined(separator: ",")))\n"
        }
        return SHA256.hash(data: Data(text.utf8)).hexadecimal
    }
}

/// Capture refuses (fails closed) while columns that look like personal data have no rule.
public struct SampleLintFailure: Error, Sendable, CustomStringConvertible {
    public var findings: [LintFinding]
    public var description: String {
        "\(findings.count) column(s) look like personal data and have no rule in the policy:\n"
            + findings.map { "  \($0)" }.joined(separator: "\n")
    }
}
