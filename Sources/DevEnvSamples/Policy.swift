import Crypto
import DevEnvModel
import DevEnvProvisioning
import DevEnvRuntime
import Foundation
import Yams

/// What happens to one column's values in a captured sample.
public indirect enum ColumnRule: Sendable, Hashable, CustomStringConvertible {
    case keep
    case null
    case email, username, firstName, lastName, fullName, ip, uuid, hashPassword
    /// Free text: e-mails, IPs, credentials in URLs, tokens and EOS user paths replaced in place.
    case text
    /// JSON: the listed dot-paths get their rule; every other string is scrubbed as `text`.
    case json([String: ColumnRule])
    case constant(String)
    case regex(pattern: String, replacement: String)

    static let named: [String: ColumnRule] = [
        "keep": .keep, "null": .null, "email": .email, "username": .username, "first_name": .firstName,
        "last_name": .lastName, "full_name": .fullName, "ip": .ip, "uuid": .uuid, "hash_password": .hashPassword,
        "text": .text,
    ]

    public var description: String {
        switch self {
        case .json(let paths): "json{\(paths.keys.sorted().map { "\($0): \(paths[$0]!)" }.joined(separator: ", "))}"
        case .constant(let value): "constant(\(value))"
        case .regex(let pattern, _): "regex(\(pattern))"
        default: Self.named.first { $0.value == self }?.key ?? "?"
        }
    }
}

/// What happens to one table.
public enum TableRule: Sendable, Equatable {
    /// Not captured at all (secrets, sessions, logs).
    case drop
    /// Not captured: the target has these rows already (filled by migrations).
    case skip
    /// Captured, with rules for some columns (the rest: `keep`, or `text` for free text).
    case columns([String: ColumnRule])
}

/// Table and column rules: the preset's, overridden by a policy file's.
public struct SamplePolicy: Sendable {
    public var tables: [String: TableRule]
    /// Columns marked `identity: true` (table → column → where the policy file says so): their
    /// original values are looked for in free text too, as names and usernames are.
    public var identities: [String: [String: String]]

    public init(tables: [String: TableRule] = [:], identities: [String: [String: String]] = [:]) {
        self.tables = tables
        self.identities = identities
    }

    /// The rules whose original values are identities: propagated into free text.
    static let identityRules: Set<ColumnRule> = [.firstName, .lastName, .fullName, .username, .email]

    /// A digest of the rules, recorded in the manifest.
    public var digest: String {
        let text = tables.keys.sorted().map { name -> String in
            switch tables[name]! {
            case .drop: "\(name)=drop"
            case .skip: "\(name)=skip"
            case .columns(let columns):
                "\(name)=" + columns.keys.sorted().map { "\($0):\(columns[$0]!)" }.joined(separator: ",")
            }
        }.joined(separator: "\n")
        let marked = identities.keys.sorted().flatMap { table in
            identities[table]!.keys.sorted().map { "identity \(table).\($0)" }
        }
        // Unchanged for a policy without identity marks (committed manifests keep their hash).
        let all = marked.isEmpty ? text : text + "\n" + marked.joined(separator: "\n")
        return SHA256.hash(data: Data(all.utf8)).hexadecimal
    }

    /// Adds `other`'s rules over these: whole tables replace, column rules merge.
    public func merged(with other: SamplePolicy) -> SamplePolicy {
        var result = self
        for (table, rule) in other.tables {
            if case .columns(let added) = rule, case .columns(let existing)? = result.tables[table] {
                result.tables[table] = .columns(existing.merging(added) { $1 })
            } else {
                result.tables[table] = rule
            }
        }
        for (table, columns) in other.identities {
            result.identities[table, default: [:]].merge(columns) { $1 }
        }
        return result
    }

    public func rule(table: String) -> TableRule? { tables[table] }

    /// The `django` preset: Django's auth and sessions, django-allauth and DRF tokens.
    public static let django = SamplePolicy(tables: [
        "django_session": .drop,
        "django_admin_log": .drop,
        "authtoken_token": .drop,
        "socialaccount_socialtoken": .drop,
        "account_emailconfirmation": .drop,
        "django_migrations": .skip,
        "django_content_type": .skip,
        "auth_permission": .skip,
        "auth_group_permissions": .skip,
        "auth_user_user_permissions": .skip,
        "auth_group": .columns(["name": .keep]),  // roles, not people
        "auth_user": .columns([
            "username": .username, "first_name": .firstName, "last_name": .lastName, "email": .email,
            "password": .hashPassword,
        ]),
        "account_emailaddress": .columns(["email": .email]),
        "socialaccount_socialaccount": .columns([
            "uid": .username,
            "extra_data": .json([
                "email": .email, "name": .fullName, "given_name": .firstName, "family_name": .lastName,
                "first_name": .firstName, "last_name": .lastName, "preferred_username": .username,
                "username": .username,
                "sub": .uuid, "cern_upn": .username, "login": .username,
            ]),
        ]),
        "socialaccount_socialapp": .columns([
            "secret": .constant(""), "client_id": .constant("devenv-client"), "key": .constant(""), "name": .keep,
        ]),
    ])

    /// Reads a policy file:
    ///
    /// ```yaml
    /// tables:
    ///   app_apikey: drop
    ///   app_profile:
    ///     phone: "null"
    ///     bio: text
    ///     settings: { json: { owner.email: email } }
    ///     code: { regex: "[0-9]{4}", replace: "0000" }
    ///     label: { constant: redacted }
    ///     reviewer: { identity: true, rule: username }   # also replaced where free text names it
    /// ```
    public static func load(path: String) throws -> SamplePolicy {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw DevEnvError("cannot read policy \(path)", exitCode: 2)
        }
        let root: YAMLNode?
        do {
            root = try YAMLReader.parse(text, file: path)
        } catch {
            throw DevEnvError(error.description, exitCode: 2)
        }
        guard let tables = root?["tables"]?.mapping else {
            throw DevEnvError("\(path):1:1: error: a policy needs a 'tables:' mapping", exitCode: 2)
        }
        var policy = SamplePolicy()
        for entry in tables {
            if let word = entry.value.scalar {
                switch word {
                case "drop": policy.tables[entry.key] = .drop
                case "skip": policy.tables[entry.key] = .skip
                case "keep": policy.tables[entry.key] = .columns([:])
                default:
                    throw DevEnvError(
                        "\(entry.value.location): error: table rule must be drop, skip, keep or a mapping of columns",
                        exitCode: 2)
                }
                continue
            }
            guard let columns = entry.value.mapping else {
                throw DevEnvError(
                    "\(entry.value.location): error: table rule must be drop, skip, keep or a mapping of columns",
                    exitCode: 2)
            }
            var rules: [String: ColumnRule] = [:]
            for column in columns {
                if let mark = column.value["identity"] {
                    guard let flag = mark.scalar, ["true", "false"].contains(flag) else {
                        throw DevEnvError("\(mark.location): error: identity is true or false", exitCode: 2)
                    }
                    let rule = try column.value["rule"].map(columnRule) ?? .username
                    if flag == "true" {
                        guard identityRules.contains(rule) else {
                            throw DevEnvError(
                                "\(mark.location): error: an identity column's rule gives a person's pseudonym (email, username, first_name, last_name, full_name), not '\(rule)'",
                                exitCode: 2)
                        }
                        policy.identities[entry.key, default: [:]][column.key] = mark.location.description
                    }
                    rules[column.key] = rule
                    continue
                }
                rules[column.key] = try columnRule(column.value)
            }
            policy.tables[entry.key] = .columns(rules)
        }
        return policy
    }

    static func columnRule(_ node: YAMLNode) throws -> ColumnRule {
        if let word = node.isNull ? "null" : node.scalar {
            guard let rule = ColumnRule.named[word] else {
                throw DevEnvError(
                    "\(node.location): error: '\(word)' is not a column rule (\(ColumnRule.named.keys.sorted().joined(separator: ", ")), json, constant, regex)",
                    exitCode: 2)
            }
            return rule
        }
        if let json = node["json"]?.mapping {
            var paths: [String: ColumnRule] = [:]
            for path in json { paths[path.key] = try columnRule(path.value) }
            return .json(paths)
        }
        if let constant = node["constant"] { return .constant(constant.scalar ?? "") }
        if let pattern = node["regex"]?.scalar {
            guard (try? NSRegularExpression(pattern: pattern)) != nil else {
                throw DevEnvError(
                    "\(node.location): error: '\(pattern)' is not a valid regular expression", exitCode: 2)
            }
            return .regex(pattern: pattern, replacement: node["replace"]?.scalar ?? "")
        }
        throw DevEnvError(
            "\(node.location): error: a column rule is a name, or {json: …}, {constant: …}, {regex: …, replace: …}",
            exitCode: 2)
    }
}
