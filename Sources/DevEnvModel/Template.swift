import Foundation

/// `{{ SERVICE.PATH }}` references inside `x-devenv.env` values.
public enum Template {
    public struct Reference: Sendable, Hashable {
        public var service: String
        public var path: [String]

        public init(service: String, path: [String]) {
            self.service = service
            self.path = path
        }

        /// The state-store key of a generated value: `db.roles.app.password`.
        public var key: String { ([service] + path).joined(separator: ".") }
    }

    /// A problem with the `{{ }}` syntax of `text`, or `nil`.
    public static func syntaxError(in text: String) -> String? {
        do {
            _ = try pieces(text)
            return nil
        } catch {
            return error.message
        }
    }

    public static func references(in text: String) -> [Reference] {
        ((try? pieces(text)) ?? []).compactMap { if case .reference(let reference) = $0 { reference } else { nil } }
    }

    /// Replaces every reference with `resolve(reference)`.
    public static func render(_ text: String, resolve: (Reference) throws -> String) throws -> String {
        try pieces(text).map { piece in
            switch piece {
            case .text(let literal): literal
            case .reference(let reference): try resolve(reference)
            }
        }.joined()
    }

    struct SyntaxError: Error { var message: String }

    enum Piece {
        case text(String)
        case reference(Reference)
    }

    static func pieces(_ text: String) throws(SyntaxError) -> [Piece] {
        var pieces: [Piece] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            pieces.append(.text(String(rest[..<open.lowerBound])))
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw SyntaxError(message: "'{{' without a closing '}}'")
            }
            let inner = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            let parts = inner.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 2, parts.allSatisfy({ !$0.isEmpty && !$0.contains(" ") }) else {
                throw SyntaxError(message: "'{{ \(inner) }}' must name SERVICE.PATH, e.g. {{ db.roles.app.password }}")
            }
            pieces.append(.reference(Reference(service: parts[0], path: Array(parts.dropFirst()))))
            rest = rest[close.upperBound...]
        }
        pieces.append(.text(String(rest)))
        return pieces
    }
}
