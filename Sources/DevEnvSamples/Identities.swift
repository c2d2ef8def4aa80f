import DevEnvModel
import Foundation

/// The original values of a source's identity columns: what free text must not name.
struct IdentityColumn {
    /// `table.column`, or `table.column.path` inside JSON.
    var source: String
    var rule: ColumnRule
    /// Distinct non-empty values, sorted (the whole table, not only the subset).
    var values: [String]
}

extension SampleCapture {
    static let textTypes: Set<String> = ["text", "varchar", "bpchar", "citext"]

    /// Each column marked `identity: true` must exist and hold text.
    func checkIdentityMarks() throws {
        for (tableName, columns) in options.policy.identities {
            guard let table = tables[tableName] ?? tables.values.first(where: { $0.name == tableName }) else {
                continue  // as any rule for a table the source does not have
            }
            for (name, location) in columns.sorted(by: { $0.key < $1.key }) {
                guard let column = table.columns.first(where: { $0.name == name }) else {
                    throw DevEnvError(
                        "\(location): error: \(table.key) has no column '\(name)' to mark as identity", exitCode: 2)
                }
                guard Self.textTypes.contains(column.baseType) else {
                    throw DevEnvError(
                        "\(location): error: \(table.key).\(name) is \(column.type), not text: only a text column can be an identity (names, usernames); remove the mark",
                        exitCode: 2)
                }
            }
        }
    }

    func isIdentityMarked(_ table: Table, _ column: String) -> Bool {
        (options.policy.identities[table.key] ?? options.policy.identities[table.name])?[column] != nil
    }

    /// Every captured table's identity columns, with their original values: names, usernames,
    /// e-mails and marked columns, and the same rules inside JSON (allauth's `extra_data`).
    func identityColumns() throws -> [IdentityColumn] {
        var found: [IdentityColumn] = []
        for key in order {
            guard let table = tables[key], case .columns = tableRule(key) else { continue }
            for (column, rule, _) in columnRules(key) {
                let name = try db.quoteIdentifier(column.name)
                let select =
                    "SELECT DISTINCT \(name)::text FROM \(try quoted(table)) WHERE \(name) IS NOT NULL ORDER BY 1"
                if SamplePolicy.identityRules.contains(rule) || isIdentityMarked(table, column.name) {
                    let values = try db.execute(select).rows.compactMap { $0[0] }.filter { !$0.isEmpty }
                    found.append(IdentityColumn(source: "\(key).\(column.name)", rule: rule, values: values))
                } else if case .json(let paths) = rule {
                    let wanted = paths.filter { SamplePolicy.identityRules.contains($0.value) }
                    guard !wanted.isEmpty else { continue }
                    var byPath: [String: Set<String>] = [:]
                    for row in try db.execute(select).rows {
                        guard let text = row[0],
                            let object = try? JSONSerialization.jsonObject(
                                with: Data(text.utf8), options: [.fragmentsAllowed])
                        else { continue }
                        for path in wanted.keys { Self.strings(at: path, in: object, into: &byPath[path, default: []]) }
                    }
                    for path in wanted.keys.sorted() {
                        found.append(
                            IdentityColumn(
                                source: "\(key).\(column.name).\(path)", rule: wanted[path]!,
                                values: byPath[path, default: []].filter { !$0.isEmpty }.sorted()))
                    }
                }
            }
        }
        return found
    }

    /// The strings at a dot-path, through arrays as the JSON rule walks them.
    static func strings(at path: String, in value: Any, into result: inout Set<String>) {
        if let array = value as? [Any] {
            for element in array { strings(at: path, in: element, into: &result) }
            return
        }
        guard !path.isEmpty else {
            if let string = value as? String { result.insert(string) }
            return
        }
        guard let object = value as? [String: Any] else { return }
        // A key may itself hold dots; try the longest key first, as the rule's paths are joined.
        let parts = path.split(separator: ".", omittingEmptySubsequences: false)
        for count in stride(from: parts.count, through: 1, by: -1) {
            let key = parts.prefix(count).joined(separator: ".")
            if let child = object[key] {
                strings(at: parts.dropFirst(count).joined(separator: "."), in: child, into: &result)
            }
        }
    }

    /// What the capture replaces in free text: each identity value with its column's pseudonym.
    /// Whole values first (full names, then first and last names, usernames, e-mail local
    /// parts, marked columns), then the first and last word of each full name.
    static func knownValues(_ columns: [IdentityColumn], _ pseudonymizer: Pseudonymizer) -> KnownValues {
        var known = KnownValues()
        let priority: [ColumnRule] = [.fullName, .firstName, .lastName, .username, .email]
        let ordered = columns.sorted {
            (priority.firstIndex(of: $0.rule) ?? priority.count) < (priority.firstIndex(of: $1.rule) ?? priority.count)
        }
        for column in ordered {
            for value in column.values {
                let original =
                    column.rule == .email ? String(value.split(separator: "@").first ?? Substring(value)) : value
                guard let pseudonym = pseudonymizer.identityPseudonym(column.rule, value) else { continue }
                known.add(original, replacement: pseudonym, source: column.source)
            }
        }
        for column in ordered where column.rule == .fullName {
            for value in column.values {
                let words = value.split(whereSeparator: \.isWhitespace)
                let pseudonym = (pseudonymizer.identityPseudonym(.fullName, value) ?? "").split(separator: " ")
                guard words.count > 1, pseudonym.count == 2 else { continue }
                known.add(String(words.first!), replacement: String(pseudonym[0]), source: column.source)
                known.add(String(words.last!), replacement: String(pseudonym[1]), source: column.source)
            }
        }
        return known
    }

    /// What an audit looks for: every original value (an e-mail's local part), less what the
    /// capture does not replace and values a pseudonym can also be: any value made only of the
    /// words pseudonyms are made of; with the capture's key (`pseudonyms`), only single such
    /// words and the pseudonyms themselves.
    static func auditValues(_ columns: [IdentityColumn], pseudonyms: KnownValues?) -> KnownValues {
        var known =
            if let pseudonyms {
                KnownValues(
                    excludingValues: pseudonyms.values.map(\.replacement),
                    excludingWords: Pseudonymizer.firstNames + Pseudonymizer.lastNames)
            } else {
                KnownValues(excludingWords: Pseudonymizer.firstNames + Pseudonymizer.lastNames)
            }
        for column in columns {
            for value in column.values {
                if column.rule == .email {
                    known.add(
                        String(value.split(separator: "@").first ?? Substring(value)), replacement: "",
                        source: column.source)
                } else {
                    known.add(value, replacement: "", source: column.source)
                }
                if column.rule == .fullName {
                    let words = value.split(whereSeparator: \.isWhitespace)
                    for word in [words.first, words.last].compactMap({ $0 }) where words.count > 1 {
                        known.add(String(word), replacement: "", source: column.source)
                    }
                }
            }
        }
        return known
    }
}
