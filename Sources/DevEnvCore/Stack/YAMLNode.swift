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

    public var description: String {
        (location.map { "\($0): " } ?? "") + "\(severity.rawValue): \(message)"
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
    public static let nodeBudget = 1_000_000
    /// How deep a document may nest.
    public static let depthLimit = 200

    public static func parse(_ text: String, file: String) throws(Diagnostic) -> YAMLNode? {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw Self.diagnostic(error, file: file)
        } catch {
            throw Diagnostic.error("not valid YAML: \(error)", at: SourceLocation(file: file, line: 1, column: 1))
        }
        guard let root else { return nil }
        var budget = nodeBudget
        return try convert(root, file: file, budget: &budget, depth: 0)
    }

    /// Every document of a multi-document stream (`---`), with locations.
    public static func parseAll(_ text: String, file: String) throws(Diagnostic) -> [YAMLNode] {
        var documents: [YAMLNode] = []
        do {
            var budget = nodeBudget
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
            let prefix = context.map { "\($0.text) " } ?? ""
            return .error(
                "not valid YAML: \(prefix)\(problem)",
                at: SourceLocation(file: file, line: mark.line, column: mark.column))
        case .reader(let problem, _, _, _):
            return .error("not readable as YAML: \(problem)", at: SourceLocation(file: file, line: 1, column: 1))
        default:
            return .error("not valid YAML: \(error)", at: SourceLocation(file: file, line: 1, column: 1))
        }
    }

    private static func convert(
        _ node: Node, file: String, budget: inout Int, depth: Int
    ) throws(Diagnostic) -> YAMLNode {
        let location = SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
        budget -= 1
        guard budget > 0 else {
            throw .error(
                "the document expands to more than \(nodeBudget) nodes (aliases used too often?); refusing to read it",
                at: location)
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
                        for entry in entries where !merged.contains(where: { $0.key == entry.key }) {
                            merged.append(entry)
                        }
                    }
                    continue
                }
                if own.contains(where: { $0.key == keyScalar.string }) {
                    throw .error("duplicate key '\(keyScalar.string)'", at: keyLocation)
                }
                let converted = try convert(value, file: file, budget: &budget, depth: depth + 1)
                own.append(YAMLEntry(key: keyScalar.string, keyLocation: keyLocation, value: converted))
            }
            let inherited = merged.filter { entry in !own.contains { $0.key == entry.key } }
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
