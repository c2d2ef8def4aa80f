import Foundation
import StateStore

/// `{{ SERVICE.PATH }}` references inside `x-devenv.env` values.
public enum Template {
    public struct Reference: Sendable, Hashable {
        public var service: String
        public var path: [String]

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

/// Fills `{{ SERVICE.PATH }}` with the value the file declares under the service's
/// `x-devenv` settings, or with a secret generated once per project and kept in the state store.
public struct TemplateResolver: Sendable {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    let stack: Stack
    let store: StateStore
    /// Where generated values live in the state store: the project's name for its own
    /// containers, or a managed server's scope (`SecretScope.target`), kept apart so that the
    /// local stack and each server get their own passwords and `down -v` never touches a server's.
    public let scope: String

    public init(stack: Stack, store: StateStore, scope: String? = nil) {
        self.stack = stack
        self.store = store
        self.scope = scope ?? stack.name
    }

    public func resolve(_ reference: Template.Reference) throws -> String {
        guard let service = stack.service(reference.service) else {
            throw Failure(
                message: "{{ \(reference.key) }} names service '\(reference.service)', which is not in the stack")
        }
        if let url = try serviceURL(reference, in: service) { return url }
        let declared = Self.declaredValue(service.devenv?.settings ?? [:], reference.path)
        if let declared, declared != "generated" { return declared }
        guard declared == "generated" || SecretRule.isSecretName(reference.path.last ?? "") else {
            throw Failure(
                message:
                    "{{ \(reference.key) }}: service '\(reference.service)' declares no value there under x-devenv (and only passwords, secrets, tokens and keys are generated)"
            )
        }
        return try store.secret(project: scope, key: reference.key) { StateStore.generateSecret() }
    }

    /// The value `resolve` would give, when the file declares it or the scope already keeps it;
    /// nil instead of generating one.
    public func knownValue(_ reference: Template.Reference) throws -> String? {
        if let service = stack.service(reference.service),
            let declared = Self.declaredValue(service.devenv?.settings ?? [:], reference.path), declared != "generated"
        {
            return declared
        }
        return try store.secrets(project: scope)[reference.key]
    }

    /// Renders one template.
    public func render(_ template: String) throws -> String {
        try Template.render(template, resolve: resolve)
    }

    /// The service's environment with its `x-devenv.env` rendered (those win over `environment:`).
    public func environment(of service: Service) throws -> [String: String] {
        var environment = service.environment
        for (key, value) in try impliedEnvironment(of: service) where environment[key] == nil {
            environment[key] = value
        }
        for (key, template) in (service.devenv?.env ?? [:]).sorted(by: { $0.key < $1.key }) {
            do {
                environment[key] = try render(template)
            } catch let error as StateStoreError {
                throw error  // the store failed, not the file: its own message, exit 1
            } catch {
                throw Failure(message: "service '\(service.name)': x-devenv.env.\(key): \(error)")
            }
        }
        return environment
    }

    /// Looks `path` up in the settings: the first component may name the setting (`postgres`,
    /// `redis`) or be left out; lists of named objects are indexed by their `name`.
    static func declaredValue(_ settings: [String: JSONValue], _ path: [String]) -> String? {
        let roots: [JSONValue] = settings[path[0]].map { [$0] } ?? []
        let candidates: [(JSONValue, ArraySlice<String>)] =
            roots.map { ($0, path.dropFirst()) } + settings.values.map { ($0, path[...]) }
        for (root, rest) in candidates {
            var value: JSONValue? = root
            for component in rest {
                switch value {
                case .object(let object)?: value = object[component]
                case .array(let items)?:
                    value = items.first { $0["name"]?.string == component }
                default: value = nil
                }
            }
            switch value {
            case .string(let text)?: return text
            case .number(let number)?: return number == number.rounded() ? String(Int(number)) : String(number)
            case .bool(let flag)?: return String(flag)
            default: continue
            }
        }
        return nil
    }
}

/// The state-store scope of a managed server's secrets: its host, port and database, so two
/// instances never share a password and neither shares one with the laptop's containers.
public enum SecretScope {
    public static func target(host: String, port: String, database: String) -> String {
        "target:\(host):\(port)/\(database)"
    }

    /// Whether a state-store scope is a managed server's (never removed by `down -v`).
    public static func isTarget(_ scope: String) -> Bool { scope.hasPrefix("target:") }
}
