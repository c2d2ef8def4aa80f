import DevEnvModel
import Foundation

/// A value as devenv prints it in YAML: what `config`, `render` and `import` produce.
public indirect enum YAMLValue: Equatable, Sendable {
    case string(String)
    /// A number or boolean, already spelled (`30`, `1.5`, `true`).
    case literal(String)
    case null
    case sequence([YAMLValue])
    case mapping([(String, YAMLValue)])

    public static func == (lhs: YAMLValue, rhs: YAMLValue) -> Bool {
        switch (lhs, rhs) {
        case (.string(let a), .string(let b)), (.literal(let a), .literal(let b)): a == b
        case (.null, .null): true
        case (.sequence(let a), .sequence(let b)): a == b
        case (.mapping(let a), .mapping(let b)): a.map(\.0) == b.map(\.0) && a.map(\.1) == b.map(\.1)
        default: false
        }
    }
}

/// Writes YAML in one pass, linear in the size of its output (Yams' emitter is quadratic in
/// the number of entries of a mapping: 18 s for 10,000 environment variables).
///
/// Block style, keys in the order given; a scalar is plain only when a YAML 1.1 or 1.2
/// reader gives back the same string, else single-quoted, else (control characters, line
/// breaks) double-quoted with escapes.
public enum YAMLWriter {
    static let maxImplicitKey = 1000

    /// One document, ending with a newline.
    public static func document(_ value: YAMLValue) -> String {
        var out = ""
        switch value {
        case .mapping(let pairs) where !pairs.isEmpty: writeMapping(pairs, indent: 0, into: &out)
        case .sequence(let items) where !items.isEmpty: writeSequence(items, indent: 0, into: &out)
        default:
            out += inline(value)
            out += "\n"
        }
        return out
    }

    /// Several documents separated by `---`.
    public static func documents(_ values: [YAMLValue]) -> String {
        values.map(document).joined(separator: "---\n")
    }

    private static func writeMapping(_ pairs: [(String, YAMLValue)], indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for (key, value) in pairs {
            let written = scalar(key)
            out += pad
            if written.utf8.count > maxImplicitKey {
                // Readers take at most 1024 characters as an implicit key: say it is one.
                out += "? "
                out += written
                out += "\n"
                out += pad
            } else {
                out += written
            }
            out += ":"
            writeNested(value, indent: indent, sequenceIndent: indent, into: &out)
        }
    }

    private static func writeSequence(_ items: [YAMLValue], indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for item in items {
            out += pad
            out += "-"
            switch item {
            case .mapping(let pairs) where !pairs.isEmpty:
                // The first pair on the dash's line, the others under it.
                out += " "
                var first = ""
                writeMapping([pairs[0]], indent: indent + 2, into: &first)
                out += first.dropFirst(indent + 2)
                writeMapping(Array(pairs.dropFirst()), indent: indent + 2, into: &out)
            case .sequence(let inner) where !inner.isEmpty:
                out += " "
                var first = ""
                writeSequence(inner, indent: indent + 2, into: &first)
                out += first.dropFirst(indent + 2)
            default:
                out += " "
                out += inline(item)
                out += "\n"
            }
        }
    }

    /// What follows `key:` — a scalar on the same line, or a block below it.
    private static func writeNested(_ value: YAMLValue, indent: Int, sequenceIndent: Int, into out: inout String) {
        switch value {
        case .mapping(let pairs) where !pairs.isEmpty:
            out += "\n"
            writeMapping(pairs, indent: indent + 2, into: &out)
        case .sequence(let items) where !items.isEmpty:
            out += "\n"
            writeSequence(items, indent: sequenceIndent, into: &out)
        default:
            out += " "
            out += inline(value)
            out += "\n"
        }
    }

    private static func inline(_ value: YAMLValue) -> String {
        switch value {
        case .string(let text): scalar(text)
        case .literal(let text): text
        case .null: "null"
        case .sequence: "[]"
        case .mapping: "{}"
        }
    }

    // MARK: scalars

    /// `text` as a YAML scalar that reads back as the same string.
    public static func scalar(_ text: String) -> String {
        if needsDoubleQuotes(text) { return doubleQuoted(text) }
        if isPlainSafe(text) { return text }
        return "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }

    private static func needsDoubleQuotes(_ text: String) -> Bool {
        text.unicodeScalars.contains { scalar in
            switch scalar.value {
            case 0x20...0x7E: false
            case 0..<0x20, 0x7F...0x9F, 0xFEFF, 0x2028, 0x2029, 0xD800...0xDFFF, 0xFFFE, 0xFFFF: true
            default: false
            }
        }
    }

    private static func doubleQuoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\0": out += "\\0"
            default:
                switch scalar.value {
                case 0..<0x20, 0x7F...0x9F: out += String(format: "\\x%02X", scalar.value)
                case 0xFEFF, 0x2028, 0x2029, 0xFFFE, 0xFFFF: out += String(format: "\\u%04X", scalar.value)
                default: out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// Plain only for printable ASCII that no reader could take for anything but this string.
    static func isPlainSafe(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, let last = bytes.last else { return false }
        guard bytes.allSatisfy({ (0x20...0x7E).contains($0) }) else { return false }
        // Indicators that may not start a plain scalar ("-", "?", ":" only before a space).
        if Array("&*!|>'\"%@`#,[]{} ".utf8).contains(first) { return false }
        if Array("-?:".utf8).contains(first), bytes.count == 1 || bytes[1] == UInt8(ascii: " ") { return false }
        if last == UInt8(ascii: " ") || last == UInt8(ascii: ":") { return false }
        for index in bytes.indices.dropLast() {
            let (byte, after) = (bytes[index], bytes[index + 1])
            if byte == UInt8(ascii: ":") && after == UInt8(ascii: " ") { return false }
            if byte == UInt8(ascii: " ") && after == UInt8(ascii: "#") { return false }
        }
        return !resolvesToAnotherType(text)
    }

    /// Whether a YAML 1.1 or 1.2 reader would take `text` for a boolean, null, number,
    /// timestamp, merge key or value key.
    static func resolvesToAnotherType(_ text: String) -> Bool {
        if Self.words.contains(text) { return true }
        guard let first = text.unicodeScalars.first, "0123456789+-.<=".unicodeScalars.contains(first) else {
            return false
        }
        let range = NSRange(text.startIndex..., in: text)
        return Self.patterns.contains { $0.firstMatch(in: text, range: range) != nil }
    }

    private static let words: Set<String> = [
        "", "~", "null", "Null", "NULL", "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True",
        "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "<<", "=",
    ]

    // swift-format-ignore
    private static let patterns: [NSRegularExpression] = [
        // int (1.1 binary, octal, decimal, hex, sexagesimal; 1.2 0o octal)
        #"^[-+]?(?:0b[0-1_]+|0o?[0-7_]+|(?:0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+|[1-9][0-9_]*(?::[0-5]?[0-9])+)$"#,
        // float
        #"^(?:[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"#,
        // timestamp
        #"^[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)?$"#,
    ].map { try! NSRegularExpression(pattern: $0) }
}

extension YAMLValue {
    /// A tree of `[String: Any]`, `[Any]`, strings, numbers, booleans and `NSNull`, as
    /// the manifests are built; mappings in key order.
    public init(any value: Any) {
        switch value {
        case let text as String: self = .string(text)
        case let flag as Bool where type(of: value) == Bool.self: self = .literal(flag ? "true" : "false")
        case let number as Int: self = .literal(String(number))
        case let number as Int64: self = .literal(String(number))
        case let number as Double:
            self = .literal(number.isNaN ? ".nan" : number.isInfinite ? (number < 0 ? "-.inf" : ".inf") : "\(number)")
        case let mapping as [String: Any]:
            self = .mapping(mapping.keys.sorted().map { ($0, YAMLValue(any: mapping[$0]!)) })
        case let items as [Any]: self = .sequence(items.map { YAMLValue(any: $0) })
        case is NSNull: self = .null
        case let number as NSNumber: self = .literal(number.stringValue)
        default: self = .string("\(value)")
        }
    }

    /// The JSON devenv encodes (`config --json`), read as it is written: keys in order,
    /// numbers spelled as they are.
    public init(json: Data) throws {
        var reader = JSONTokens(bytes: Array(json))
        self = try reader.value()
        reader.skipSpace()
        guard reader.atEnd else { throw reader.failure("trailing characters") }
    }
}

/// A minimal reader for the JSON `JSONEncoder` writes.
private struct JSONTokens {
    let bytes: [UInt8]
    var index = 0

    var atEnd: Bool { index >= bytes.count }

    func failure(_ what: String) -> DevEnvError {
        DevEnvError("internal error: unreadable JSON at byte \(index): \(what)")
    }

    mutating func skipSpace() {
        while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
    }

    mutating func value() throws -> YAMLValue {
        skipSpace()
        guard index < bytes.count else { throw failure("unexpected end") }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            index += 1
            var pairs: [(String, YAMLValue)] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .mapping([])
            }
            while true {
                skipSpace()
                let key = try string()
                skipSpace()
                try expect(":")
                pairs.append((key, try value()))
                skipSpace()
                if try separatorEnds("}") { return .mapping(pairs) }
            }
        case UInt8(ascii: "["):
            index += 1
            var items: [YAMLValue] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .sequence([])
            }
            while true {
                items.append(try value())
                skipSpace()
                if try separatorEnds("]") { return .sequence(items) }
            }
        case UInt8(ascii: "\""): return .string(try string())
        default:
            let start = index
            while index < bytes.count, !Array(",]} \n\r\t".utf8).contains(bytes[index]) { index += 1 }
            let word = String(decoding: bytes[start..<index], as: UTF8.self)
            if word == "null" { return .null }
            guard !word.isEmpty else { throw failure("a value was expected") }
            return .literal(word)
        }
    }

    /// After an item: `,` continues, `close` ends.
    private mutating func separatorEnds(_ close: Character) throws -> Bool {
        guard index < bytes.count else { throw failure("unexpected end") }
        if bytes[index] == UInt8(ascii: ",") {
            index += 1
            return false
        }
        try expect(close)
        return true
    }

    private mutating func expect(_ character: Character) throws {
        guard index < bytes.count, bytes[index] == character.asciiValue! else { throw failure("\(character) expected") }
        index += 1
    }

    private mutating func string() throws -> String {
        try expect("\"")
        var utf8: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""): return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { throw failure("unexpected end") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code), index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                        bytes[index + 1] == UInt8(ascii: "u")
                    {
                        index += 2
                        let low = try hex4()
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    utf8.append(contentsOf: Array(String(Unicode.Scalar(code).map(Character.init) ?? "\u{FFFD}").utf8))
                default: utf8.append(escape)  // \" \\ \/
                }
            default: utf8.append(byte)
            }
        }
        throw failure("unterminated string")
    }

    private mutating func hex4() throws -> UInt32 {
        guard index + 4 <= bytes.count,
            let code = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16)
        else { throw failure("bad \\u escape") }
        index += 4
        return code
    }
}
