import Crypto
import Foundation

/// A digest of a build's inputs — every file of the context that `.dockerignore` keeps (path,
/// size, modification time, mode), the Dockerfile's name, the args and the target — so `up`
/// rebuilds an image when its context changed, without reading file contents.
enum BuildDigest {
    static func of(_ build: Build) -> String {
        var hasher = SHA256()
        func add(_ text: String) { hasher.update(data: Data((text + "\n").utf8)) }
        add("dockerfile=\(build.dockerfile)")
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
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
