import Crypto
import DevEnvModel
import DevEnvProvisioning
import DevEnvRuntime
import DevEnvSamples
import Foundation

/// A digest of a build's inputs — every file of the context that `.dockerignore` keeps (path,
/// size, modification time, mode), the Dockerfile's name, the args and the target — so `up`
/// rebuilds an image when its context changed, without reading file contents.
enum BuildDigest {
    /// `baseImages`: the image IDs the Dockerfile's `FROM` lines name now, so a rebuilt base
    /// image (a local `compose/images` recipe that changed) rebuilds the images on top of it.
    static func of(_ build: Build, baseImages: [String] = []) -> String {
        digest(of: inputs(build, baseImages: baseImages))
    }

    static func digest(of inputs: [String]) -> String {
        var hasher = SHA256()
        for line in inputs { hasher.update(data: Data((line + "\n").utf8)) }
        return hasher.finalize().hexadecimal
    }

    /// What the digest covers, one line each: `dockerfile=`, `from ID`, `target=`, `arg K=V`,
    /// then `PATH SIZE MTIME MODE` for every file the context keeps.
    static func inputs(_ build: Build, baseImages: [String] = []) -> [String] {
        var lines = ["dockerfile=\(build.dockerfile)"]
        for image in baseImages { lines.append("from \(image)") }
        lines.append("target=\(build.target ?? "")")
        for (key, value) in build.args.sorted(by: { $0.key < $1.key }) { lines.append("arg \(key)=\(value)") }
        let ignore = DockerIgnore(contextDirectory: build.context)
        let manager = FileManager.default
        let paths = ((manager.enumerator(atPath: build.context)?.allObjects as? [String]) ?? []).sorted()
        for path in paths where !ignore.excludes(path) {
            guard let attributes = try? manager.attributesOfItem(atPath: build.context + "/" + path) else { continue }
            let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
            let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0
            lines.append("\(path) \(size) \(modified) \(mode)")
        }
        return lines
    }

    /// How many changed paths a reason names before "and N more".
    static let namedPaths = 5

    /// What changed between two input lists, in words: the Dockerfile's name, base images,
    /// target, build arguments (names only: they may hold secrets), and the first paths that
    /// were added, removed or changed.
    static func changes(from old: [String], to new: [String]) -> [String] {
        func isFile(_ line: String) -> Bool {
            !(line.hasPrefix("dockerfile=") || line.hasPrefix("from ") || line.hasPrefix("target=")
                || line.hasPrefix("arg "))
        }
        func files(_ lines: [String]) -> [String: String] {
            var byPath: [String: String] = [:]
            for line in lines where isFile(line) {
                // PATH may hold spaces; the last three fields are size, time and mode.
                let fields = line.split(separator: " ", omittingEmptySubsequences: false)
                guard fields.count >= 4 else { continue }
                byPath[fields.dropLast(3).joined(separator: " ")] = fields.suffix(3).joined(separator: " ")
            }
            return byPath
        }
        var reasons: [String] = []
        let oldSettings = old.filter { !isFile($0) }
        let newSettings = new.filter { !isFile($0) }
        if oldSettings.first(where: { $0.hasPrefix("dockerfile=") })
            != newSettings.first(where: { $0.hasPrefix("dockerfile=") })
        {
            reasons.append("build: the Dockerfile changed")
        }
        if oldSettings.filter({ $0.hasPrefix("from ") }) != newSettings.filter({ $0.hasPrefix("from ") }) {
            reasons.append("build: a base image (FROM) changed")
        }
        if oldSettings.first(where: { $0.hasPrefix("target=") })
            != newSettings.first(where: { $0.hasPrefix("target=") })
        {
            reasons.append("build: the target stage changed")
        }
        func args(_ lines: [String]) -> [String: String] {
            Dictionary(
                lines.filter { $0.hasPrefix("arg ") }.map { line -> (String, String) in
                    let pair = line.dropFirst(4).split(separator: "=", maxSplits: 1)
                    return (String(pair.first ?? ""), pair.count > 1 ? String(pair[1]) : "")
                }, uniquingKeysWith: { $1 })
        }
        let (oldArgs, newArgs) = (args(oldSettings), args(newSettings))
        let argNames = Set(oldArgs.keys).union(newArgs.keys).filter { oldArgs[$0] != newArgs[$0] }.sorted()
        if !argNames.isEmpty { reasons.append("build: args \(argNames.joined(separator: ", ")) changed") }
        let (oldFiles, newFiles) = (files(old), files(new))
        let paths = Set(oldFiles.keys).union(newFiles.keys).filter { oldFiles[$0] != newFiles[$0] }.sorted()
        if !paths.isEmpty {
            let named = paths.prefix(namedPaths).map { path in
                oldFiles[path] == nil ? "\(path) (new)" : newFiles[path] == nil ? "\(path) (removed)" : path
            }
            let more = paths.count > namedPaths ? " and \(paths.count - namedPaths) more" : ""
            reasons.append("build context: \(named.joined(separator: ", "))\(more)")
        }
        return reasons
    }

    /// The images named by the Dockerfile's `FROM` lines, without the build's own stages,
    /// `scratch`, or references that use build arguments.
    static func baseImageReferences(_ build: Build) -> [String] {
        let path = build.dockerfile.hasPrefix("/") ? build.dockerfile : build.context + "/" + build.dockerfile
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        var stages: Set<String> = []
        var references: [String] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard words.first?.uppercased() == "FROM" else { continue }
            let arguments = words.dropFirst().filter { !$0.hasPrefix("--") }
            guard let image = arguments.first else { continue }
            if image != "scratch", !image.contains("$"), !stages.contains(image.lowercased()) {
                references.append(image)
            }
            if arguments.count >= 3, arguments[arguments.startIndex + 1].uppercased() == "AS" {
                stages.insert(arguments[arguments.startIndex + 2].lowercased())
            }
        }
        return references
    }
}
