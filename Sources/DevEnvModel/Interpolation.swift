import Foundation

/// Compose-style variable interpolation: `$VAR`, `${VAR}`, `${VAR:-default}`,
/// `${VAR-default}`, `${VAR:?message}`, `${VAR?message}`, `${VAR:+alt}`, `${VAR+alt}` and
/// `$$` for a literal `$`. Defaults and alternatives may themselves contain `${…}`.
public struct Interpolator: Sendable {
    public enum Failure: Error, Equatable, Sendable {
        /// `${VAR:?message}` with VAR unset (or empty).
        case required(variable: String, message: String)
        /// Not a valid `${…}` expression (unclosed, empty or bad name).
        case invalid(String)
    }

    let lookup: @Sendable (String) -> String?
    /// How deep `${…}` may nest inside defaults (`${A:-${B:-…}}`): the expansion recurses.
    public static let nestingLimit = 32

    /// The same, with `defaults` for variables the environment does not set (an included
    /// file's `env_file`).
    func adding(_ defaults: [String: String]) -> Interpolator {
        guard !defaults.isEmpty else { return self }
        let base = lookup
        return Interpolator(lookup: { base($0) ?? defaults[$0] })
    }

    public init(lookup: @escaping @Sendable (String) -> String?) {
        self.lookup = lookup
    }

    public init(environment: [String: String]) {
        self.init { environment[$0] }
    }

    /// The text with every expression replaced, and the variables that were used but unset
    /// (each became an empty string, as in Compose).
    public func interpolate(_ text: String) throws(Failure) -> (value: String, unset: [String]) {
        guard text.contains("$") else { return (text, []) }
        var unset: [String] = []
        let chars = Array(text.unicodeScalars)
        var index = 0
        let value = try expand(chars, &index, until: nil, unset: &unset, level: 0)
        return (value, unset)
    }

    /// Expands until `terminator` (a `}` closing an enclosing expression) or the end.
    private func expand(
        _ chars: [Unicode.Scalar], _ index: inout Int, until terminator: Unicode.Scalar?, unset: inout [String],
        level: Int
    ) throws(Failure) -> String {
        var output = String.UnicodeScalarView()
        var depth = 0  // braces opened inside a default that are not expressions
        while index < chars.count {
            let char = chars[index]
            if let terminator, char == terminator, depth == 0 { return String(output) }
            if char == "{" && terminator != nil { depth += 1 }
            if char == "}" && terminator != nil && depth > 0 { depth -= 1 }
            guard char == "$" else {
                output.append(char)
                index += 1
                continue
            }
            index += 1
            guard index < chars.count else {
                output.append("$")  // a trailing `$` stays
                break
            }
            let next = chars[index]
            if next == "$" {
                output.append("$")
                index += 1
            } else if next == "{" {
                index += 1
                guard level < Self.nestingLimit else {
                    throw .invalid("'${' nests deeper than \(Self.nestingLimit) levels")
                }
                output.append(contentsOf: try braced(chars, &index, unset: &unset, level: level + 1).unicodeScalars)
            } else if Self.isNameStart(next) {
                var name = String.UnicodeScalarView()
                while index < chars.count, Self.isNameChar(chars[index]) {
                    name.append(chars[index])
                    index += 1
                }
                let variable = String(name)
                if let value = lookup(variable) {
                    output.append(contentsOf: value.unicodeScalars)
                } else {
                    unset.append(variable)
                }
            } else {
                output.append("$")  // `$` before anything else is literal, as in Compose
            }
        }
        if terminator != nil { throw .invalid("unclosed '${' (missing '}')") }
        return String(output)
    }

    /// After `${`: the name, an optional operator and its argument, and the closing `}`.
    private func braced(
        _ chars: [Unicode.Scalar], _ index: inout Int, unset: inout [String], level: Int
    ) throws(Failure) -> String {
        var name = String.UnicodeScalarView()
        while index < chars.count, Self.isNameChar(chars[index]) {
            name.append(chars[index])
            index += 1
        }
        let variable = String(name)
        guard !variable.isEmpty, let first = variable.unicodeScalars.first, Self.isNameStart(first) else {
            throw .invalid("'${' must be followed by a variable name")
        }
        guard index < chars.count else { throw .invalid("unclosed '${\(variable)' (missing '}')") }
        if chars[index] == "}" {
            index += 1
            if let value = lookup(variable) { return value }
            unset.append(variable)
            return ""
        }
        var colon = false
        if chars[index] == ":" {
            colon = true
            index += 1
            guard index < chars.count else { throw .invalid("unclosed '${\(variable):' (missing '}')") }
        }
        let op = chars[index]
        guard op == "-" || op == "?" || op == "+" else {
            throw .invalid(
                "'${\(variable)\(colon ? ":" : "")\(op)…}' is not a supported expression (use :- - :? ? :+ +)")
        }
        index += 1
        let value = lookup(variable)
        let isSet = colon ? !(value ?? "").isEmpty : value != nil
        // The argument is expanded only when it is used, but always parsed.
        var argumentUnset: [String] = []
        let argument = try expand(chars, &index, until: "}", unset: &argumentUnset, level: level)
        index += 1  // the closing `}`
        switch op {
        case "-":
            if isSet { return value ?? "" }
            unset.append(contentsOf: argumentUnset)
            return argument
        case "?":
            if isSet { return value ?? "" }
            throw .required(
                variable: variable,
                message: argument.isEmpty ? "required variable \(variable) is missing a value" : argument)
        default:  // "+"
            if isSet {
                unset.append(contentsOf: argumentUnset)
                return argument
            }
            return ""
        }
    }

    static func isNameStart(_ char: Unicode.Scalar) -> Bool {
        char == "_" || (char >= "A" && char <= "Z") || (char >= "a" && char <= "z")
    }

    static func isNameChar(_ char: Unicode.Scalar) -> Bool {
        isNameStart(char) || (char >= "0" && char <= "9")
    }
}

/// Reads `.env` and `env_file:` files: `KEY=VALUE` lines, optional `export `, `#` comments,
/// single quotes (literal) and double quotes (with `\n`, `\t`, `\"`, `\\` escapes).
public enum DotEnv {
    public struct Entry: Sendable, Equatable {
        public var key: String
        /// `nil` for a bare `KEY` line: take the value from the environment.
        public var value: String?
        public var line: Int
    }

    public static func parse(_ text: String, file: String) throws(Diagnostic) -> [Entry] {
        var entries: [Entry] = []
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = offset + 1
            var line = Substring(rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine)
            line = line.drop { $0 == " " || $0 == "\t" }
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = line.dropFirst("export ".count).drop { $0 == " " } }
            guard let equals = line.firstIndex(of: "=") else {
                let key = line.trimmingCharacters(in: .whitespaces)
                // The line is not quoted: the file may be anything (env_file: /etc/shadow).
                guard isValidKey(key) else {
                    throw .error(
                        "this line is not KEY=VALUE (or a variable name)",
                        at: SourceLocation(file: file, line: lineNumber, column: 1))
                }
                entries.append(Entry(key: key, value: nil, line: lineNumber))
                continue
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            guard isValidKey(key) else {
                throw .error(
                    "the name before '=' is not a valid variable name",
                    at: SourceLocation(file: file, line: lineNumber, column: 1))
            }
            let rest = line[line.index(after: equals)...].drop { $0 == " " || $0 == "\t" }
            let value: String
            if let quote = rest.first, quote == "\"" || quote == "'" {
                guard let close = closingQuote(rest, quote) else {
                    throw .error(
                        "unclosed \(quote) quote in the value of \(key)",
                        at: SourceLocation(file: file, line: lineNumber, column: 1))
                }
                let inner = rest[rest.index(after: rest.startIndex)..<close]
                value = quote == "'" ? String(inner) : unescape(inner)
            } else {
                // An unquoted value ends at ` #` (a comment).
                var text = String(rest)
                if let comment = text.range(of: " #") { text = String(text[..<comment.lowerBound]) }
                value = text.trimmingCharacters(in: .whitespaces)
            }
            entries.append(Entry(key: key, value: value, line: lineNumber))
        }
        return entries
    }

    static func isValidKey(_ key: String) -> Bool {
        !key.isEmpty && key.unicodeScalars.allSatisfy { Interpolator.isNameChar($0) || $0 == "." || $0 == "-" }
    }

    private static func closingQuote(_ text: Substring, _ quote: Character) -> Substring.Index? {
        var index = text.index(after: text.startIndex)
        while index < text.endIndex {
            if text[index] == "\\" && quote == "\"" {
                index = text.index(after: index)
                if index < text.endIndex { index = text.index(after: index) }
                continue
            }
            if text[index] == quote { return index }
            index = text.index(after: index)
        }
        return nil
    }

    private static func unescape(_ text: Substring) -> String {
        var output = ""
        var escaping = false
        for char in text {
            if escaping {
                switch char {
                case "n": output.append("\n")
                case "t": output.append("\t")
                case "r": output.append("\r")
                default: output.append(char)
                }
                escaping = false
            } else if char == "\\" {
                escaping = true
            } else {
                output.append(char)
            }
        }
        return output
    }
}
