import Crypto
import DevEnvModel
import DevEnvProvisioning
import DevEnvRuntime
import Foundation

/// Deterministic, keyed replacements for personal data. Every value is derived from
/// HMAC-SHA256(key, kind + input): the same input gives the same output in every table and
/// column of a capture, another key gives other output, and the key is never written anywhere.
/// Outputs of one kind never collide for different inputs (a collision takes the next
/// candidate), so unique columns stay unique.
public final class Pseudonymizer {
    let key: SymmetricKey
    private var cache: [String: String] = [:]
    private var used: [String: Set<String>] = [:]
    /// How many values each rule changed, for the report.
    public private(set) var counts: [String: Int] = [:]
    /// The source's identity values (names, usernames, e-mail local parts) with their
    /// pseudonyms: free text that mentions one as a word gets the same pseudonym as its column.
    public private(set) var known = KnownValues()

    /// HMAC with the key already absorbed: each digest copies it (the key's pads are hashed once).
    private let keyed: HMAC<SHA256>

    public init(key: Data) {
        self.key = SymmetricKey(data: key)
        keyed = HMAC<SHA256>(key: self.key)
    }

    static let firstNames = [
        "Anna", "Ben", "Carla", "David", "Elena", "Felix", "Giulia", "Hugo", "Ines", "Jonas", "Klara", "Luca", "Marta",
        "Nils", "Olga", "Pablo", "Quentin", "Rosa", "Stefan", "Tamara", "Ugo", "Vera", "Walter", "Xenia", "Yusuf",
        "Zoe",
        "Alice", "Bruno", "Chiara", "Dimitri", "Emma", "Fabio", "Greta", "Henrik", "Irene", "Jakub", "Lena", "Marco",
        "Nora", "Oscar", "Paula", "Rafael", "Sofia", "Tomas", "Ursula", "Viktor", "Wanda", "Yann",
    ]
    static let lastNames = [
        "Almeida", "Berger", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hansen", "Ivanova", "Jensen", "Keller",
        "Lombardi", "Martin", "Novak", "Olsen", "Petrov", "Quinn", "Rossi", "Schmidt", "Tanaka", "Urban", "Vidal",
        "Weber", "Xu", "Young", "Zimmermann", "Arnaud", "Bianchi", "Castro", "Dalton", "Esposito", "Ferreira", "Gomez",
        "Huber", "Iglesias", "Janssen", "Kowalski", "Laurent", "Moreau", "Nielsen", "Ortega", "Peeters", "Romano",
        "Santos", "Torres", "Varga", "Wagner", "Yilmaz",
    ]

    func digest(_ kind: String, _ input: String, _ attempt: Int) -> [UInt8] {
        var hmac = keyed
        hmac.update(data: Data("\(kind)\u{0}\(attempt)\u{0}\(input)".utf8))
        return Array(hmac.finalize())
    }

    /// The output for `input` of `kind`, built by `make` from digest bytes; with `distinct`,
    /// never the same as another input's (for values that sit in unique columns).
    func unique(_ kind: String, _ input: String, distinct: Bool = true, _ make: ([UInt8]) -> String) -> String {
        let cacheKey = kind + "\u{0}" + input
        if let known = cache[cacheKey] { return known }
        var attempt = 0
        var candidate = make(digest(kind, input, attempt))
        while distinct && used[kind, default: []].contains(candidate) {
            attempt += 1
            candidate = make(digest(kind, input, attempt))
        }
        used[kind, default: []].insert(candidate)
        cache[cacheKey] = candidate
        return candidate
    }

    static func number(_ bytes: [UInt8], _ offset: Int) -> Int {
        Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
    }

    func firstName(_ value: String) -> String {
        unique("first_name", value.lowercased(), distinct: false) {
            Self.firstNames[Self.number($0, 0) % Self.firstNames.count]
        }
    }

    func lastName(_ value: String) -> String {
        unique("last_name", value.lowercased(), distinct: false) {
            Self.lastNames[Self.number($0, 0) % Self.lastNames.count]
        }
    }

    /// A name of two words or more reads as its first word's first-name pseudonym and its last
    /// word's last-name pseudonym, so "Maria Rossi" matches the `first_name` and `last_name`
    /// columns' pseudonyms for Maria and Rossi wherever text names her either way.
    func fullName(_ value: String) -> String {
        let words = value.split(whereSeparator: \.isWhitespace)
        if words.count > 1 { return "\(firstName(String(words.first!))) \(lastName(String(words.last!)))" }
        return unique("full_name", value.lowercased(), distinct: false) {
            "\(Self.firstNames[Self.number($0, 0) % Self.firstNames.count]) \(Self.lastNames[Self.number($0, 2) % Self.lastNames.count])"
        }
    }

    func email(_ value: String) -> String {
        unique("email", value.trimmingCharacters(in: .whitespaces).lowercased()) {
            let first = Self.firstNames[Self.number($0, 0) % Self.firstNames.count].lowercased()
            let last = Self.lastNames[Self.number($0, 2) % Self.lastNames.count].lowercased()
            return "\(first).\(last)\(Self.number($0, 4) % 1000)@example.org"
        }
    }

    func username(_ value: String) -> String {
        unique("username", value.lowercased()) {
            let first = Self.firstNames[Self.number($0, 0) % Self.firstNames.count].lowercased()
            let last = Self.lastNames[Self.number($0, 2) % Self.lastNames.count].lowercased()
            return "\(first.prefix(1))\(last)\(Self.number($0, 4) % 1000)"
        }
    }

    func ip(_ value: String) -> String {
        unique("ip", value) { bytes in
            value.contains(":")
                ? String(format: "fd00::%02x%02x:%02x%02x", bytes[0], bytes[1], bytes[2], bytes[3])
                : "10.\(bytes[0]).\(bytes[1]).\(bytes[2] == 0 ? 1 : bytes[2])"
        }
    }

    func uuid(_ value: String) -> String {
        unique("uuid", value.lowercased()) { bytes in
            var b = Array(bytes.prefix(16))
            b[6] = (b[6] & 0x0f) | 0x40
            b[8] = (b[8] & 0x3f) | 0x80
            let hex = b.hexadecimal
            let parts = [
                hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4),
                hex.dropFirst(20),
            ]
            return parts.joined(separator: "-")
        }
    }

    /// Django's unusable password: `!` and 40 characters (what `set_unusable_password` stores).
    func unusablePassword(_ value: String) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        let bytes = digest("password", value, 0) + digest("password", value, 1)
        return "!" + String(bytes.prefix(40).map { alphabet[Int($0) % alphabet.count] })
    }

    func token(_ value: String) -> String {
        unique("token", value) { bytes in
            String(
                (bytes + digest("token-more", value, 0)).hexadecimal.prefix(
                    max(value.count, 16)))
        }
    }

    // Not right after `:` or `/`: that is a URL's user or password, handled by credentialPattern.
    static let emailPattern = try! NSRegularExpression(
        pattern: #"(?<![A-Za-z0-9._%+\-:/])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"#)
    static let credentialPattern = try! NSRegularExpression(
        pattern: #"([A-Za-z][A-Za-z0-9+.\-]*://)([^/\s:@]+):([^/\s@]+)@"#)
    static let eosPattern = try! NSRegularExpression(pattern: #"/eos/user/[a-z]/([A-Za-z0-9_.\-]+)"#)
    static let ipv4Pattern = try! NSRegularExpression(
        pattern: #"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b"#)
    static let tokenPattern = try! NSRegularExpression(
        pattern: #"\b(?=[A-Za-z0-9_\-]*\d)(?=[A-Za-z0-9_\-]*[A-Za-z])[A-Za-z0-9_\-]{32,}\b"#)

    /// Which of `scrub`'s patterns could match, from one scan of the bytes: each regular
    /// expression runs only where its hint is.
    struct Hints: OptionSet {
        let rawValue: UInt8
        /// An `@`: e-mails, credentials in URLs.
        static let at = Hints(rawValue: 1)
        /// A `/`: EOS paths.
        static let slash = Hints(rawValue: 2)
        /// A dot between digits: IPs.
        static let dottedDigit = Hints(rawValue: 4)
        /// A run of 32 word characters: tokens.
        static let longRun = Hints(rawValue: 8)
        /// A word that may begin a known identity value (set by callers that check them).
        static let known = Hints(rawValue: 16)

        init(rawValue: UInt8) { self.rawValue = rawValue }

        init(_ bytes: some Sequence<UInt8>) {
            var hints: Hints = []
            var run = 0
            var previousDigit = false
            var dottedDigit = false
            for byte in bytes {
                if byte == UInt8(ascii: "@") { hints.insert(.at) }
                if byte == UInt8(ascii: "/") { hints.insert(.slash) }
                let isDigit = byte >= 48 && byte <= 57
                if dottedDigit && isDigit { hints.insert(.dottedDigit) }
                dottedDigit = previousDigit && byte == UInt8(ascii: ".")
                previousDigit = isDigit
                let word =
                    isDigit || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || byte == 95 || byte == 45
                run = word ? run + 1 : 0
                if run >= 32 { hints.insert(.longRun) }
            }
            self = hints
        }
    }

    /// Whether `text` could hold anything `scrub` replaces: an `@` (e-mails, credentials), a `/`
    /// (EOS paths), a dot between digits (IPs) or a run of 32 word characters (tokens).
    static func mayHoldPersonalData(_ text: String) -> Bool { mayHoldPersonalData(bytes: text.utf8) }

    static func mayHoldPersonalData(bytes: some Sequence<UInt8>) -> Bool { !Hints(bytes).isEmpty }

    /// Teaches `scrub` the source's identity values.
    public func learn(_ values: KnownValues) {
        known = values
    }

    /// Whether `scrub` could change this field: `mayHoldPersonalData`, or a word of it may
    /// begin a known identity value.
    public func mayChange(bytes: UnsafeRawBufferPointer) -> Bool {
        Self.mayHoldPersonalData(bytes: bytes) || known.mayMatch(bytes: bytes)
    }

    /// Free text with every e-mail, credential, EOS user path, IP, token and known identity
    /// value replaced in place.
    func scrub(_ text: String) -> String {
        let hints = Hints(text.utf8)
        guard !hints.isEmpty || !known.isEmpty else { return text }
        var result = text
        if hints.contains(.at) {
            result = replace(Self.credentialPattern, in: result) { match, groups in
                "\(groups[1])\(self.username(groups[2])):redacted@"
            }
            result = replace(Self.emailPattern, in: result) { match, _ in self.email(match) }
        }
        if hints.contains(.slash) {
            result = replace(Self.eosPattern, in: result) { _, groups in
                let user = self.username(groups[1])
                return "/eos/user/\(user.prefix(1))/\(user)"
            }
        }
        if hints.contains(.dottedDigit) {
            result = replace(Self.ipv4Pattern, in: result) { match, _ in self.ip(match) }
        }
        if hints.contains(.longRun) {
            result = replace(Self.tokenPattern, in: result) { match, _ in self.token(match) }
        }
        return known.isEmpty ? result : known.replace(in: result)
    }

    private func replace(
        _ pattern: NSRegularExpression, in text: String, _ make: (String, [String]) -> String
    ) -> String {
        let nsText = text as NSString
        var output = ""
        var last = 0
        for match in pattern.matches(in: text, range: NSRange(location: 0, length: nsText.length)) {
            output += nsText.substring(with: NSRange(location: last, length: match.range.location - last))
            let groups = (0..<match.numberOfRanges).map { index -> String in
                let range = match.range(at: index)
                return range.location == NSNotFound ? "" : nsText.substring(with: range)
            }
            output += make(groups[0], groups)
            last = match.range.location + match.range.length
        }
        output += nsText.substring(from: last)
        return output
    }

    /// The pseudonym an identity rule gives `value` (not counted in the report); for an
    /// e-mail, its local part's (the text before `@` that free text may name alone).
    func identityPseudonym(_ rule: ColumnRule, _ value: String) -> String? {
        switch rule {
        case .firstName: firstName(value)
        case .lastName: lastName(value)
        case .fullName: fullName(value)
        case .username: username(value)
        case .email: email(value).split(separator: "@").first.map(String.init)
        default: nil
        }
    }

    /// Applies a rule to one value; `nil` is SQL NULL.
    public func apply(_ rule: ColumnRule, to value: String?) -> String? {
        guard let value else { return nil }
        let result: String?
        switch rule {
        case .keep: return value
        case .null: result = nil
        case .email: result = email(value)
        case .username: result = username(value)
        case .firstName: result = firstName(value)
        case .lastName: result = lastName(value)
        case .fullName: result = fullName(value)
        case .ip: result = ip(value)
        case .uuid: result = uuid(value)
        case .hashPassword: result = unusablePassword(value)
        case .text: result = scrub(value)
        case .json(let paths): result = json(value, paths)
        case .constant(let constant): result = constant
        case .regex(let pattern, let replacement):
            let expression = try! NSRegularExpression(pattern: pattern)
            result = expression.stringByReplacingMatches(
                in: value, range: NSRange(location: 0, length: (value as NSString).length), withTemplate: replacement)
        }
        if result != value { counts[rule.description, default: 0] += 1 }
        return result
    }

    func json(_ text: String, _ paths: [String: ColumnRule]) -> String {
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else {
            return scrub(text)
        }
        let transformed = walk(parsed, path: "", paths)
        guard
            let data = try? JSONSerialization.data(
                withJSONObject: transformed, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])
        else { return scrub(text) }
        return String(decoding: data, as: UTF8.self)
    }

    private func walk(_ value: Any, path: String, _ paths: [String: ColumnRule]) -> Any {
        if let rule = paths[path], !(value is [String: Any]), !(value is [Any]) {
            if let string = value as? String { return apply(rule, to: string) ?? NSNull() }
            if value is NSNull { return value }
            return apply(rule, to: "\(value)") ?? NSNull()
        }
        switch value {
        case let object as [String: Any]:
            var result: [String: Any] = [:]
            for (key, child) in object { result[key] = walk(child, path: path.isEmpty ? key : "\(path).\(key)", paths) }
            return result
        case let array as [Any]:
            return array.map { walk($0, path: path, paths) }
        case let string as String:
            return scrub(string)
        default:
            return value
        }
    }
}

/// PostgreSQL COPY text format fields: `\N` is NULL; backslash escapes for tab, newline and friends.
enum CopyText {
    static func decode(_ field: Substring) -> String? {
        if field == "\\N" { return nil }
        guard field.utf8.contains(UInt8(ascii: "\\")) else { return String(field) }
        var output: [UInt8] = []
        output.reserveCapacity(field.utf8.count)
        var iterator = field.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "\\"), let next = iterator.next() else {
                output.append(byte)
                continue
            }
            switch next {
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "v"): output.append(0x0B)
            default: output.append(next)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func encode(_ value: String?) -> String {
        guard let value else { return "\\N" }
        let special: (UInt8) -> Bool = { $0 == 0x5C || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        guard value.utf8.contains(where: special) else { return value }
        var output: [UInt8] = []
        output.reserveCapacity(value.utf8.count + 8)
        for byte in value.utf8 {
            switch byte {
            case 0x5C: output += [0x5C, 0x5C]
            case 0x09: output += [0x5C, UInt8(ascii: "t")]
            case 0x0A: output += [0x5C, UInt8(ascii: "n")]
            case 0x0D: output += [0x5C, UInt8(ascii: "r")]
            default: output.append(byte)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
