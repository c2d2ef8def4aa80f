import Foundation

/// The one place commands print results: a table for people or stable JSON for scripts.
struct Output {
    var json: Bool

    /// Prints `value` as JSON with snake_case keys (the `--json` contract).
    func printJSON(_ value: some Encodable) throws {
        print(String(decoding: try json(value), as: UTF8.self))
    }

    /// `value` as the JSON `printJSON` prints.
    func json(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// Prints aligned columns with a header row.
    func printTable(_ header: [String], _ rows: [[String]]) {
        print(Self.table(header, rows), terminator: "")
    }

    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in
            all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0
        }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    /// Key/value lines for people: `key: value`.
    func printFields(_ fields: [(String, String)]) {
        let width = fields.map(\.0.count).max() ?? 0
        for (key, value) in fields {
            print("\(key.padding(toLength: width, withPad: " ", startingAt: 0))  \(value)")
        }
    }
}
