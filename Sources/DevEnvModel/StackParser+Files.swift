import Foundation

/// Compose's `secrets:` and `configs:`: files whose contents come from a file on this machine,
/// a variable, or (configs) the stack file itself, put into the containers that name them.
extension StackParser {
    /// The top-level declarations of `kind` (`secrets` or `configs`).
    mutating func fileSources(_ node: YAMLNode?, kind: String) -> [FileSource] {
        guard let node, !node.isNull else { return [] }
        guard let entries = node.mapping else {
            expect(kind, "a mapping of \(kind) names", node)
            return []
        }
        var sources: [FileSource] = []
        for entry in entries {
            let what = "\(kind).\(entry.key)"
            guard let settings = entry.value.mapping else {
                expect(
                    what, "a mapping with file\(kind == "configs" ? ", environment or content" : " or environment")",
                    entry.value)
                continue
            }
            var known: Set<String> = ["file", "environment", "name"]
            if kind == "configs" { known.insert("content") }
            warnUnknownKeys(settings, known: known, unsupported: ["external", "driver", "template_driver"], in: what)
            var source = FileSource(name: entry.key)
            source.file = entry.value["file"].flatMap { string($0, "\(what).file") }.map(absolutePath)
            source.environment = entry.value["environment"].flatMap { string($0, "\(what).environment") }
            if kind == "configs" { source.content = entry.value["content"].flatMap { string($0, "\(what).content") } }
            let given = [source.file != nil, source.environment != nil, source.content != nil].filter { $0 }.count
            if given != 1 {
                error(
                    "\(what) needs exactly one of file\(kind == "configs" ? ", environment or content" : " or environment")",
                    entry.value)
                continue
            }
            if let variable = source.environment {
                guard let value = environment[variable] else {
                    error(
                        "\(what).environment names \(variable), which is not set (in the environment or .env)",
                        entry.value)
                    continue
                }
                source.environmentValue = value
            }
            sources.append(source)
        }
        return sources
    }

    /// A service's `secrets:`/`configs:`: names, or `{source, target, uid, gid, mode}`.
    mutating func fileReferences(_ node: YAMLNode, _ what: String, kind: String) -> [FileReference]? {
        guard let items = node.sequence else {
            expect(what, "a list of \(kind) names or mappings with source", node)
            return nil
        }
        let declared = kind == "secrets" ? declaredSecrets : declaredConfigs
        // Secrets land under /run/secrets; a config's default place is /NAME.
        let directory = kind == "secrets" ? "/run/secrets/" : "/"
        var references: [FileReference] = []
        for item in items {
            var reference: FileReference
            if let entries = item.mapping {
                warnUnknownKeys(entries, known: ["source", "target", "uid", "gid", "mode"], in: "an item of \(what)")
                guard let source = item["source"].flatMap({ string($0, "\(what).source") }) else {
                    error("an item of \(what) needs a source", item)
                    continue
                }
                reference = FileReference(source: source, target: directory + source)
                if let target = item["target"].flatMap({ string($0, "\(what).target") }) {
                    reference.target = target.hasPrefix("/") ? target : directory + target
                }
                if let value = item["uid"] { reference.uid = numericID(value, "\(what).uid") ?? 0 }
                if let value = item["gid"] { reference.gid = numericID(value, "\(what).gid") ?? 0 }
                if let value = item["mode"] {
                    guard let text = value.scalar, let mode = Self.fileMode(text) else {
                        expect("\(what).mode", "a file mode such as 0440 (octal) or 288 (decimal)", value)
                        continue
                    }
                    reference.mode = mode
                }
            } else if let source = string(item, "an item of \(what)") {
                reference = FileReference(source: source, target: directory + source)
            } else {
                continue
            }
            guard declared.contains(where: { $0.name == reference.source }) else {
                error("\(kind.dropLast()) '\(reference.source)' is not declared under the top-level '\(kind):'", item)
                continue
            }
            guard !reference.target.split(separator: "/").contains(".."), reference.target.count > 1 else {
                error("\(what): '\(reference.target)' is not a file path in the container", item)
                continue
            }
            references.append(reference)
        }
        return references
    }

    /// A uid or gid: a number, as Compose writes it (a string or an integer).
    mutating func numericID(_ node: YAMLNode, _ what: String) -> Int? {
        guard let text = node.scalar, let value = Int(text), (0...0x7FFF_FFFF).contains(value) else {
            expect(what, "a numeric id", node)
            return nil
        }
        return value
    }

    /// `0440` (a leading zero: octal, as YAML 1.1 reads it) or a decimal number, at most 0o7777.
    static func fileMode(_ text: String) -> Int? {
        let value =
            text.hasPrefix("0o")
            ? Int(text.dropFirst(2), radix: 8)
            : text.hasPrefix("0") && text.count > 1 ? Int(text.dropFirst(), radix: 8) : Int(text)
        guard let value, (0...0o7777).contains(value) else { return nil }
        return value
    }
}
