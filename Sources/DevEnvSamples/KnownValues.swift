import Foundation

/// Original values of identity columns (names, usernames, e-mail local parts), each with the
/// pseudonym its column gave it, found in free text and replaced there in one pass.
///
/// Text is cut into tokens: words (letters, digits, marks and `_`, any script) and single
/// separators (a run of white space is one " "; curly apostrophes and dashes read as `'` and
/// `-`). A value is a token sequence, so "Maria", "O'Neil", "Jean-Pierre", "Maria Luisa Rossi",
/// "j.doe" and "Müller" match as whole words only, case-insensitively, and a username inside
/// a path or URL (`/home/jdoe/`, `?user=jdoe`) is found. All values sit in one trie of tokens:
/// each word of the text is looked up once at the root and the longest value starting there
/// wins (Aho–Corasick over words; no pattern is tried one by one).
public struct KnownValues: Sendable {
    struct Node: Sendable {
        var children: [String: Int32] = [:]
        var value: Int32 = -1
    }
    public struct Value: Sendable, Equatable {
        public var replacement: String
        /// `table.column` (or `table.column.path` inside JSON) the original came from.
        public var source: String
    }
    /// Why a value is not looked for in free text: replacing it there would mangle ordinary words.
    public enum Unsafe: String, Sendable, CaseIterable {
        case short = "shorter than 3 letters or digits"
        case digits = "only digits"
        case common = "a common word"
        /// Only for an audit: a pseudonym could be this very value (all its words are ones
        /// pseudonyms are made of).
        case pseudonym = "also a pseudonym"
    }

    var nodes: [Node] = [Node()]
    public private(set) var values: [Value] = []
    /// FNV-1a hashes of the values' first words (ASCII, folded): the byte prefilter.
    var firstWords: Set<UInt64> = []
    /// The same hashes' low 16 bits as a bitmap, checked before the set (most words miss).
    var firstWordBits = [UInt64](repeating: 0, count: 1024)
    /// Per source column: how many values were added, and how many were left out and why.
    public private(set) var added: [String: Int] = [:]
    public private(set) var skipped: [String: [Unsafe: Int]] = [:]
    private var skippedValues: Set<String> = []
    /// The common words a source held (these are not personal: they are the rule's own list).
    public private(set) var commonWordsSeen: [String: Set<String>] = [:]
    /// For an audit: values a pseudonym can also be are left out (reported as `.pseudonym`):
    /// values made of the words pseudonyms are made of, or, when the key is known, the
    /// pseudonyms themselves and those words alone.
    let excludedValues: Set<String>
    let excludedWords: Set<String>

    public init(excludingValues: some Sequence<String> = [String](), excludingWords: some Sequence<String> = [String]())
    {
        excludedValues = Set(excludingValues.map { Self.tokens($0).map(\.folded).joined() })
        excludedWords = Set(excludingWords.map { $0.lowercased() })
    }

    public var isEmpty: Bool { values.isEmpty }

    /// Account and role names that are words, not people: never replaced in free text.
    public static let commonWords: Set<String> = [
        "admin", "administrator", "root", "test", "tester", "testing", "user", "users", "guest", "demo", "default",
        "system", "service", "support", "info", "operator", "operators", "shift", "anonymous", "unknown", "none",
        "null", "nobody", "staff", "team", "dev", "prod", "example", "sample", "owner", "manager", "expert", "bot",
        "robot", "daemon", "api", "web", "mail", "contact", "help", "noreply", "no-reply", "the", "and",
    ]

    /// Adds `original`, to be replaced by `replacement`; the first value added for a token
    /// sequence wins. Returns why it was left out, if it was.
    @discardableResult
    public mutating func add(_ original: String, replacement: String, source: String) -> Unsafe? {
        var tokens = Self.tokens(original).map(\.folded)
        while tokens.first == " " { tokens.removeFirst() }
        while tokens.last == " " { tokens.removeLast() }
        guard !tokens.isEmpty else { return nil }
        let joined = tokens.joined()
        let significant = joined.unicodeScalars.filter { Self.isWord($0) && $0 != "_" }
        let reason: Unsafe? =
            significant.count < 3
            ? .short
            : significant.allSatisfy({ $0.properties.numericType != nil })
                ? .digits
                : Self.commonWords.contains(joined) ? .common : isPseudonymShaped(tokens) ? .pseudonym : nil
        if let reason {
            // Counted once per distinct value and source (a full name's first word recurs).
            guard skippedValues.insert(source + "\u{0}" + joined).inserted else { return reason }
            skipped[source, default: [:]][reason, default: 0] += 1
            if reason == .common { commonWordsSeen[source, default: []].insert(joined) }
            return reason
        }
        var node = 0
        for token in tokens {
            if let next = nodes[node].children[token] {
                node = Int(next)
            } else {
                nodes.append(Node())
                nodes[node].children[token] = Int32(nodes.count - 1)
                node = nodes.count - 1
            }
        }
        guard nodes[node].value < 0 else { return nil }
        nodes[node].value = Int32(values.count)
        values.append(Value(replacement: replacement, source: source))
        added[source, default: 0] += 1
        if tokens[0].utf8.allSatisfy({ $0 < 0x80 }) {
            let hash = Self.hash(tokens[0].utf8)
            firstWords.insert(hash)
            firstWordBits[Int(hash >> 6 & 1023)] |= 1 << (hash & 63)
        }
        return nil
    }

    /// Whether a value reads as a name pseudonym: words pseudonyms are made of, separated by
    /// spaces (`Anna`, `Anna Weber`; not `anna.weber`, which no pseudonym is).
    /// With the pseudonyms known exactly, only single words still count this way: a first
    /// name is part of every pseudonym e-mail made from it (`anna.weber12@example.org`).
    func isPseudonymShaped(_ tokens: [String]) -> Bool {
        if excludedValues.contains(tokens.joined()) { return true }
        guard !excludedWords.isEmpty, tokens.allSatisfy({ $0 == " " || excludedWords.contains($0) }) else {
            return false
        }
        return excludedValues.isEmpty || tokens.count == 1
    }

    // MARK: tokens

    struct Token {
        var folded: String
        var range: Range<String.UnicodeScalarView.Index>
        var isWord: Bool
    }

    /// An ASCII letter, digit or `_`: what a word is made of in ASCII text.
    static func isWordByte(_ v: UInt8) -> Bool {
        (v >= 48 && v <= 57) || (v >= 65 && v <= 90) || (v >= 97 && v <= 122) || v == 95
    }

    static func isWord(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return isWordByte(UInt8(scalar.value)) }
        let properties = scalar.properties
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return properties.isAlphabetic || properties.numericType != nil
        }
    }

    static func separator(_ scalar: Unicode.Scalar) -> String {
        switch scalar.value {
        case 0x2018, 0x2019, 0x02BC, 0x0060, 0x00B4: "'"
        case 0x2010...0x2015, 0x2212: "-"
        default: String(scalar)
        }
    }

    static func tokens(_ text: String) -> [Token] {
        var copy = text
        if copy.withUTF8({ $0.allSatisfy { $0 < 0x80 } }) { return asciiTokens(text) }
        let scalars = text.unicodeScalars
        var tokens: [Token] = []
        var index = scalars.startIndex
        while index < scalars.endIndex {
            let scalar = scalars[index]
            var end = scalars.index(after: index)
            if isWord(scalar) {
                var ascii = scalar.isASCII
                while end < scalars.endIndex, isWord(scalars[end]) {
                    ascii = ascii && scalars[end].isASCII
                    end = scalars.index(after: end)
                }
                let word = String(scalars[index..<end]).lowercased()
                tokens.append(
                    Token(
                        folded: ascii ? word : word.precomposedStringWithCanonicalMapping, range: index..<end,
                        isWord: true))
            } else if scalar.properties.isWhitespace {
                while end < scalars.endIndex, scalars[end].properties.isWhitespace { end = scalars.index(after: end) }
                tokens.append(Token(folded: " ", range: index..<end, isWord: false))
            } else {
                tokens.append(Token(folded: separator(scalar), range: index..<end, isWord: false))
            }
            index = end
        }
        return tokens
    }

    /// `tokens` for ASCII text, byte by byte (the common case, without Unicode properties).
    static func asciiTokens(_ text: String) -> [Token] {
        let utf8 = text.utf8
        var tokens: [Token] = []
        var index = utf8.startIndex
        func isSpace(_ v: UInt8) -> Bool { v == 0x20 || (v >= 0x09 && v <= 0x0D) }
        while index < utf8.endIndex {
            let byte = utf8[index]
            var end = utf8.index(after: index)
            if isWordByte(byte) {
                while end < utf8.endIndex, isWordByte(utf8[end]) { end = utf8.index(after: end) }
                let folded = String(
                    decoding: utf8[index..<end].map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
                tokens.append(Token(folded: folded, range: index..<end, isWord: true))
            } else if isSpace(byte) {
                while end < utf8.endIndex, isSpace(utf8[end]) { end = utf8.index(after: end) }
                tokens.append(Token(folded: " ", range: index..<end, isWord: false))
            } else {
                tokens.append(Token(folded: String(UnicodeScalar(byte)), range: index..<end, isWord: false))
            }
            index = end
        }
        return tokens
    }

    static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }

    // MARK: matching

    /// Whether `bytes` (UTF-8) could hold a value: a word whose hash is a first word's, or any
    /// word with non-ASCII letters (checked in full).
    public func mayMatch(bytes: UnsafeRawBufferPointer) -> Bool {
        guard !values.isEmpty else { return false }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var inWord = false
        for index in 0...bytes.count {
            let byte = index < bytes.count ? bytes[index] : 0x20
            if byte >= 0x80 { return true }
            if Self.isWordByte(byte) {
                if !inWord {
                    hash = 0xcbf2_9ce4_8422_2325
                    inWord = true
                }
                hash ^= UInt64(byte >= 65 && byte <= 90 ? byte + 32 : byte)
                hash = hash &* 0x100_0000_01b3
            } else if inWord {
                inWord = false
                if firstWordBits[Int(hash >> 6 & 1023)] & 1 << (hash & 63) != 0, firstWords.contains(hash) {
                    return true
                }
            }
        }
        return false
    }

    /// The values found in `text`, longest first at each position: (scalar range, value).
    func matches(in text: String) -> [(range: Range<String.UnicodeScalarView.Index>, value: Value)] {
        let tokens = Self.tokens(text)
        var found: [(Range<String.UnicodeScalarView.Index>, Value)] = []
        var index = 0
        while index < tokens.count {
            guard tokens[index].isWord, var node = nodes[0].children[tokens[index].folded].map(Int.init) else {
                index += 1
                continue
            }
            var best: (end: Int, value: Int32)? = nodes[node].value >= 0 ? (index, nodes[node].value) : nil
            var next = index + 1
            while next < tokens.count, let child = nodes[node].children[tokens[next].folded] {
                node = Int(child)
                if nodes[node].value >= 0, tokens[next].isWord { best = (next, nodes[node].value) }
                next += 1
            }
            if let best {
                found.append(
                    (tokens[index].range.lowerBound..<tokens[best.end].range.upperBound, values[Int(best.value)]))
                index = best.end + 1
            } else {
                index += 1
            }
        }
        return found
    }

    /// `text` with every value replaced by its pseudonym, in the case the text wrote it in
    /// (all lower, all upper, or as the pseudonym is).
    public func replace(in text: String) -> String {
        let found = matches(in: text)
        guard !found.isEmpty else { return text }
        // A match's bounds need not be on a character boundary (a name followed by a joiner):
        // String's subscripts keep the text between matches scalar for scalar.
        var output = ""
        output.reserveCapacity(text.utf8.count + 16)
        var last = text.startIndex
        for (range, value) in found {
            output += text[last..<range.lowerBound]
            output += Self.adapt(value.replacement, to: text.unicodeScalars[range])
            last = range.upperBound
        }
        output += text[last...]
        return output
    }

    static func adapt(_ replacement: String, to matched: Substring.UnicodeScalarView) -> String {
        var letters = 0
        var upper = 0
        var lower = 0
        for scalar in matched {
            if scalar.isASCII {
                let v = scalar.value
                if v >= 65 && v <= 90 { upper += 1 } else if v >= 97 && v <= 122 { lower += 1 } else { continue }
                letters += 1
            } else if scalar.properties.isAlphabetic {
                letters += 1
                if scalar.properties.isUppercase { upper += 1 } else if scalar.properties.isLowercase { lower += 1 }
            }
        }
        if letters > 1, upper == letters { return replacement.uppercased() }
        if letters > 0, lower == letters { return replacement.lowercased() }
        return replacement
    }

    /// One line per source column for `--report`: how many values are looked for in free
    /// text, and how many are not and why.
    public var summary: [String: String] {
        var lines: [String: String] = [:]
        for source in Set(added.keys).union(skipped.keys) {
            var line = "\(added[source] ?? 0) values propagated into free text"
            let left = skipped[source] ?? [:]
            let notes = Unsafe.allCases.compactMap { reason -> String? in
                guard let count = left[reason] else { return nil }
                let words =
                    reason == .common
                    ? " (" + (commonWordsSeen[source] ?? []).sorted().joined(separator: ", ") + ")" : ""
                return "\(count) \(reason.rawValue)\(words)"
            }
            if !notes.isEmpty { line += "; not propagated: " + notes.joined(separator: ", ") }
            lines[source] = line
        }
        return lines
    }
}
