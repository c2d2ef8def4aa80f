import DevEnvModel
import DevEnvProvisioning
import DevEnvRuntime
import DevEnvSamples
import Foundation

/// `.dockerignore` rules of a build context: glob patterns (`*`, `?`, `**`), `!` to re-include,
/// the last matching rule winning; a matching directory excludes what is inside it.
public struct DockerIgnore: Sendable {
    struct Rule: Sendable {
        var pattern: String
        var include: Bool
    }
    let rules: [Rule]

    public init(contextDirectory: String) {
        let text = (try? String(contentsOfFile: contextDirectory + "/.dockerignore", encoding: .utf8)) ?? ""
        self.init(text: text)
    }

    public init(text: String) {
        rules = text.split(separator: "\n").compactMap { raw in
            var line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { return nil }
            let include = line.hasPrefix("!")
            if include { line.removeFirst() }
            line = Paths.lexical(line)
            while line.hasPrefix("/") { line.removeFirst() }
            return line.isEmpty ? nil : Rule(pattern: line, include: include)
        }
    }

    /// Whether `path` (relative to the context) stays out of the build context.
    public func excludes(_ path: String) -> Bool {
        var excluded = false
        for rule in rules where Self.matches(rule.pattern, path) { excluded = !rule.include }
        return excluded
    }

    /// The pattern matches the path or one of its parent directories.
    static func matches(_ pattern: String, _ path: String) -> Bool {
        let components = path.split(separator: "/").map(String.init)
        for end in stride(from: components.count, through: 1, by: -1) {
            if glob(pattern.split(separator: "/").map(String.init)[...], components[0..<end]) { return true }
        }
        return false
    }

    private static func glob(_ pattern: ArraySlice<String>, _ path: ArraySlice<String>) -> Bool {
        guard let head = pattern.first else { return path.isEmpty }
        if head == "**" {
            let rest = pattern.dropFirst()
            for skip in 0...path.count where glob(rest, path.dropFirst(skip)) { return true }
            return false
        }
        guard let component = path.first, fnmatch(head, component, 0) == 0 else { return false }
        return glob(pattern.dropFirst(), path.dropFirst())
    }
}
