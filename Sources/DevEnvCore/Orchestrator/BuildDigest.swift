import Crypto
import Foundation

/// A digest of a build's inputs — every file of the context that `.dockerignore` keeps (path,
/// size, modification time, mode), the Dockerfile's name, the args and the target — so `up`
/// rebuilds an image when its context changed, without reading file contents.
enum BuildDigest {
    /// `baseImages`: the image IDs the Dockerfile's `FROM` lines name now, so a rebuilt base
    /// image (a local `compose/images` recipe that changed) rebuilds the images on top of it.
    static func of(_ build: Build, baseImages: [String] = []) -> String {
        var hasher = SHA256()
        func add(_ text: String) { hasher.update(data: Data((text + "\n").utf8)) }
        add("dockerfile=\(build.dockerfile)")
        for image in baseImages { add("from \(image)") }
        add("target=\(build.target ?? "")")
        for (key, value) in build.args.sorted(by: { $0.key < $1.key }) { add("arg \(key)=\(value)") }
        let ignore = DockerIgnore(contextDirectory: build.context)
        let manager = FileManager.default
        let paths = ((manager.enumerator(atPath: build.context)?.allObjects as? [String]) ?? []).sorted()
        for path in paths where !ignore.excludes(path) {
            guard let attributes = try? manager.attributesOfItem(atPath: build.context + "/" + path) else { continue }
            let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
            let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0
            add("\(path) \(size) \(modified) \(mode)")
        }
        return hasher.finalize().hexadecimal
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
