import Foundation
import Yams

/// Where something is in a stack file: `file:line:col`, 1-based.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// A problem found in a stack file. Errors stop the command (exit 2) before the engine is
/// touched; warnings are printed and the command goes on.
public struct Diagnostic: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable { case warning, error }
    public var severity: Severity
    public var location: SourceLocation?
    public var message: String

    public init(_ severity: Severity, _ message: String, at location: SourceLocation?) {
        self.severity = severity
        self.location = location
        self.message = message
    }

    public static func error(_ message: String, at location: SourceLocation?) -> Diagnostic {
        Diagnostic(.error, message, at: location)
    }

    public static func warning(_ message: String, at location: SourceLocation?) -> Diagnostic {
        Diagnostic(.warning, message, at: location)
    }

    /// One line for a terminal: control characters in the message (a newline or an escape
    /// sequence from a hostile file, a NUL in a name) are shown escaped, never sent raw.
    public var description: String {
        (location.map { "\($0): " } ?? "") + "\(severity.rawValue): \(Self.printable(message))"
    }

    static func printable(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return text }
        return String(
            text.unicodeScalars.map { scalar -> String in
                switch scalar {
                case "\n": return "\\n"
                case "\t": return "\\t"
                case "\r": return "\\r"
                default:
                    return scalar.properties.generalCategory == .control
                        ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
                }
            }.joined())
    }
}

/// Every error found in the stack files, reported together.
public struct StackFileErrors: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
    }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// A YAML value with the place it came from. Aliases are expanded and merge keys (`<<`)
/// applied, within a budget that stops alias bombs.
public struct YAMLNode: Sendable {
    public enum ScalarTag: Sendable, Equatable { case string, int, float, bool, null }

    public enum Kind: Sendable {
        case scalar(String, ScalarTag)
        case mapping([YAMLEntry])
        case sequence([YAMLNode])
    }

    public var kind: Kind
    public var location: SourceLocation

    public init(_ kind: Kind, at location: SourceLocation) {
        self.kind = kind
        self.location = location
    }

    /// The YAML type, for "expected …, found …" messages.
    public var typeName: String {
        switch kind {
        case .scalar(_, .null): "null"
        case .scalar(_, .string): "a string"
        case .scalar(_, .int): "a number"
        case .scalar(_, .float): "a number"
        case .scalar(_, .bool): "a boolean"
        case .mapping: "a mapping"
        case .sequence: "a list"
        }
    }

    public var isNull: Bool { if case .scalar(_, .null) = kind { true } else { false } }

    /// The text of a scalar (of any scalar tag).
    public var scalar: String? { if case .scalar(let text, _) = kind { text } else { nil } }

    public var mapping: [YAMLEntry]? { if case .mapping(let entries) = kind { entries } else { nil } }

    public var sequence: [YAMLNode]? { if case .sequence(let items) = kind { items } else { nil } }

    public subscript(key: String) -> YAMLNode? { mapping?.first { $0.key == key }?.value }
}

public struct YAMLEntry: Sendable {
    public var key: String
    public var keyLocation: SourceLocation
    public var value: YAMLNode

    public init(key: String, keyLocation: SourceLocation, value: YAMLNode) {
        self.key = key
        self.keyLocation = keyLocation
        self.value = value
    }
}

/// Parses YAML text into `YAMLNode`s with locations.
public enum YAMLReader {
    /// How many nodes one document may expand to (aliases count each time they are used).
    public static let nodeBudget = 200_000
    /// How many bytes of text the scalars of one document may expand to (an alias of a large
    /// value counts each time it is used).
    public static let byteBudget = 16 << 20
    /// How many lines and flow-list items a file may have: checked on the text, before the
    /// YAML library builds a tree of them (millions of items would take gigabytes).
    public static let itemLimit = 200_000
    /// How deep a document may nest.
    public static let depthLimit = 200

    /// Refuses a text with more lines and list items than any stack file has, before parsing.
    static func checkItemCount(_ text: String, file: String) throws(Diagnostic) {
        var count = 0
        for byte in text.utf8 where byte == 0x0a || byte == 0x2c {
            count += 1
            if count > itemLimit {
                throw .error(
                    "the file has more than \(itemLimit) lines and list items; refusing to read it",
                    at: SourceLocation(file: file, line: 1, column: 1))
            }
        }
    }

    public static func parse(_ text: String, file: String) throws(Diagnostic) -> YAMLNode? {
        try checkItemCount(text, file: file)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw Self.diagnostic(error, file: file)
        } catch {
            throw Diagnostic.error("not valid YAML: \(error)", at: SourceLocation(file: file, line: 1, column: 1))
        }
        guard let root else { return nil }
        var budget = Budget()
        return try convert(root, file: file, budget: &budget, depth: 0)
    }

    /// What is left of a document's node and byte budgets.
    struct Budget {
        var nodes = YAMLReader.nodeBudget
        var bytes = YAMLReader.byteBudget
    }

    /// Every document of a multi-document stream (`---`), with locations.
    public static func parseAll(_ text: String, file: String) throws(Diagnostic) -> [YAMLNode] {
        var documents: [YAMLNode] = []
        try checkItemCount(text, file: file)
        do {
            var budget = Budget()
            for root in try Yams.compose_all(yaml: text) {
                documents.append(try convert(root, file: file, budget: &budget, depth: 0))
            }
        } catch let error as YamlError {
            throw Self.diagnostic(error, file: file)
        } catch let error as Diagnostic {
            throw error
        } catch {
            throw Diagnostic.error("not valid YAML: \(error)", at: SourceLocation(file: file, line: 1, column: 1))
        }
        return documents
    }

    static func diagnostic(_ error: YamlError, file: String) -> Diagnostic {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let location = SourceLocation(file: file, line: mark.line, column: mark.column)
            // libyaml's own words for its nesting limit name a C function.
            if problem.contains("max_nest_level") || problem.contains("nest") {
                return .error("the document nests deeper than libyaml allows; refusing to read it", at: location)
            }
            let prefix = context.map { "\($0.text) " } ?? ""
            return .error("not valid YAML: \(prefix)\(problem)", at: location)
        case .reader(let problem, let offset, let value, let yaml):
            // A NUL or another character YAML does not allow, at its line and column.
            let location =
                offset.map { sourceLocation(ofByte: $0, in: yaml, file: file) }
                ?? SourceLocation(file: file, line: 1, column: 1)
            let character = value >= 0 ? String(format: " (U+%04X)", value) : ""
            return .error("not readable as YAML: \(problem)\(character)", at: location)
        case .duplicatedKeysInMapping(let duplicates, let context):
            // libyaml marks the key's first use; the repeat is the line to fix.
            let keys = duplicates.prefix(3).map { "'\($0.prefix(60))'" }.joined(separator: ", ")
            let first = context.mark
            if let key = duplicates.first,
                let line = repeatedKeyLine(key, after: first.line, column: first.column, in: context.text)
            {
                return .error(
                    "duplicate key \(keys) in a mapping (first at line \(first.line))",
                    at: SourceLocation(file: file, line: line, column: first.column))
            }
            return .error(
                "duplicate key \(keys) in a mapping",
                at: SourceLocation(file: file, line: first.line, column: first.column))
        default:
            return .error("not valid YAML", at: SourceLocation(file: file, line: 1, column: 1))
        }
    }

    /// The first line after `line` that starts, at `column`, the block-mapping key `key`
    /// (plain or quoted); nil for flow mappings and anything less plain.
    static func repeatedKeyLine(_ key: String, after line: Int, column: Int, in text: String) -> Int? {
        let indent = String(repeating: " ", count: column - 1)
        let spellings = [key, "\"\(key)\"", "'\(key)'"].map { indent + $0 + ":" }
        var number = 0
        for candidate in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            guard number > line else { continue }
            for spelling in spellings where candidate.hasPrefix(spelling) {
                let rest = candidate.dropFirst(spelling.count)
                if rest.isEmpty || rest.first == " " { return number }
            }
        }
        return nil
    }

    /// Line and column (1-based) of byte `offset` of `text`.
    static func sourceLocation(ofByte offset: Int, in text: String, file: String) -> SourceLocation {
        var line = 1
        var column = 1
        for byte in text.utf8.prefix(offset) {
            if byte == 0x0a {
                line += 1
                column = 1
            } else if byte & 0xc0 != 0x80 {
                column += 1
            }
        }
        return SourceLocation(file: file, line: line, column: column)
    }

    private static func convert(
        _ node: Node, file: String, budget: inout Budget, depth: Int
    ) throws(Diagnostic) -> YAMLNode {
        let location = SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
        budget.nodes -= 1
        guard budget.nodes > 0 else {
            throw .error(
                "the document expands to more than \(nodeBudget) nodes (too many items, or aliases used too often); refusing to read it",
                at: location)
        }
        if case .scalar(let scalar) = node {
            budget.bytes -= scalar.string.utf8.count
            guard budget.bytes > 0 else {
                throw .error(
                    "the document expands to more than \(byteBudget >> 20) MiB of text (aliases of large values used too often?); refusing to read it",
                    at: location)
            }
        }
        guard depth < depthLimit else {
            throw .error("the document nests deeper than \(depthLimit) levels; refusing to read it", at: location)
        }
        switch node {
        case .scalar(let scalar):
            return YAMLNode(.scalar(scalar.string, tag(of: node, scalar)), at: location)
        case .alias:
            throw .error("alias refers to no anchor", at: location)
        case .sequence(let sequence):
            var items: [YAMLNode] = []
            for item in sequence { items.append(try convert(item, file: file, budget: &budget, depth: depth + 1)) }
            return YAMLNode(.sequence(items), at: location)
        case .mapping(let mapping):
            var own: [YAMLEntry] = []
            var merged: [YAMLEntry] = []
            // Key sets beside the lists: a mapping of 20,000 keys is checked in linear time.
            var ownKeys: Set<String> = []
            var mergedKeys: Set<String> = []
            for (key, value) in mapping {
                let keyLocation = SourceLocation(file: file, line: key.mark?.line ?? 1, column: key.mark?.column ?? 1)
                guard case .scalar(let keyScalar) = key else {
                    throw .error("mapping keys must be plain strings", at: keyLocation)
                }
                if keyScalar.string == "<<" && keyScalar.style == .plain {
                    // Merge key: the merged mappings supply keys this mapping does not set itself.
                    let sources: [Node] =
                        switch value {
                        case .sequence(let sequence): Array(sequence)
                        default: [value]
                        }
                    for source in sources {
                        let converted = try convert(source, file: file, budget: &budget, depth: depth + 1)
                        guard let entries = converted.mapping else {
                            throw .error(
                                "'<<' merges mappings only, found \(converted.typeName)", at: converted.location)
                        }
                        for entry in entries where mergedKeys.insert(entry.key).inserted {
                            merged.append(entry)
                        }
                    }
                    continue
                }
                guard ownKeys.insert(keyScalar.string).inserted else {
                    throw .error("duplicate key '\(keyScalar.string)'", at: keyLocation)
                }
                let converted = try convert(value, file: file, budget: &budget, depth: depth + 1)
                own.append(YAMLEntry(key: keyScalar.string, keyLocation: keyLocation, value: converted))
            }
            let inherited = merged.filter { !ownKeys.contains($0.key) }
            return YAMLNode(.mapping(inherited + own), at: location)
        }
    }

    private static func tag(of node: Node, _ scalar: Node.Scalar) -> YAMLNode.ScalarTag {
        guard scalar.style == .plain else { return .string }
        switch node.tag.rawValue {
        case Tag.Name.null.rawValue: return .null
        case Tag.Name.bool.rawValue: return .bool
        case Tag.Name.int.rawValue: return .int
        case Tag.Name.float.rawValue: return .float
        default: return .string
        }
    }
}
