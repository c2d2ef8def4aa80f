import Foundation

/// The one rule for what is secret: which names devenv generates values for, which variables
/// `env` masks, which values log tails, healthcheck output and build output hide.
public enum SecretRule {
    /// Names whose values are secrets: `password`, `passwd`, `secret`, `token`, `key`, `auth`,
    /// alone or as the last part after `_`, `-` or `.` (`DJANGO_SECRET_KEY`, `REDISCLI_AUTH`,
    /// `sso_client_secret`), and any name ending in `password` or `passwd` (`PGPASSWORD`).
    public static func isSecretName(_ name: String) -> Bool {
        let lower = name.lowercased()
        if lower.hasSuffix("password") || lower.hasSuffix("passwd") { return true }
        let last = lower.split(whereSeparator: { "_-.".contains($0) }).last.map(String.init) ?? lower
        return words.contains(last)
    }

    static let words: Set<String> = ["password", "passwd", "secret", "token", "key", "auth"]

    /// `text` with every known secret replaced by `***`.
    public static func masking(_ secrets: [String], in text: String) -> String {
        secrets.reduce(text) { $0.replacingOccurrences(of: $1, with: "***") }
    }

    /// A variable as `env` shows it without `--show-secrets`: `***` for a secret-named one, a
    /// URL without its password, and any known secret inside the value masked.
    public static func masked(name: String, value: String, known: [String]) -> String {
        if !value.isEmpty, isSecretName(name) { return "***" }
        var shown = value
        if value.contains("://"), var url = URLComponents(string: value), url.password.map({ !$0.isEmpty }) == true {
            url.percentEncodedPassword = "***"
            shown = url.string ?? value
        }
        return masking(known, in: shown)
    }
}
