import Foundation

/// Compose's `extends:`: a service starts from another one, in the same stack or in another
/// file, and its own keys are merged over it with the rules of an override file. Chains are
/// followed and cycles refused. A base from another file keeps its relative paths relative to
/// its own file.
struct ExtendsResolver {
    var context: LoadContext
    let interpolator: Interpolator
    /// The directory relative paths of the stack resolve against.
    let projectDirectory: String
    /// Other files' services, parsed once each: path → services mapping.
    private var files: [String: [YAMLEntry]] = [:]

    init(context: LoadContext, interpolator: Interpolator, projectDirectory: String) {
        self.context = context
        self.interpolator = interpolator
        self.projectDirectory = projectDirectory
    }

    /// The stack with every service's `extends` resolved and removed.
    mutating func resolve(_ root: YAMLNode) -> YAMLNode {
        guard let entries = root.mapping, let services = root["services"]?.mapping,
            services.contains(where: { $0.value["extends"] != nil })
        else { return root }
        var resolved: [YAMLEntry] = []
        for entry in services {
            var copy = entry
            copy.value = service(entry.value, named: entry.key, in: services, directory: projectDirectory, seen: [])
            resolved.append(copy)
        }
        return YAMLNode(
            .mapping(
                entries.map { entry in
                    guard entry.key == "services" else { return entry }
                    var copy = entry
                    copy.value = YAMLNode(.mapping(resolved), at: entry.value.location)
                    return copy
                }), at: root.location)
    }

    /// `node` (a service of the file in `directory`, whose services are `siblings`) with its
    /// `extends` chain merged in. `seen` holds `file#service` already on the chain.
    mutating func service(
        _ node: YAMLNode, named name: String, in siblings: [YAMLEntry], directory: String, seen: [String]
    ) -> YAMLNode {
        guard let extends = node["extends"], let entries = node.mapping else { return node }
        let own = YAMLNode(.mapping(entries.filter { $0.key != "extends" }), at: node.location)
        let what = "services.\(name).extends"
        var baseName: String?
        var file: String?
        if let text = extends.scalar, !extends.isNull {
            baseName = text
        } else if let settings = extends.mapping {
            for entry in settings where !["service", "file"].contains(entry.key) {
                context.warnings.append(
                    .warning("unknown key '\(entry.key)' in \(what) (ignored)", at: entry.keyLocation))
            }
            baseName = extends["service"]?.scalar
            file = extends["file"]?.scalar
        }
        guard let baseName else {
            context.errors.append(
                .error(
                    "\(what) needs a service: `extends: NAME` or `{service: NAME, file: PATH}`", at: extends.location))
            return own
        }
        var baseDirectory = directory
        var baseSiblings = siblings
        if let file {
            let path = Self.absolute(file, in: directory)
            guard let services = services(of: path, at: extends.location) else { return own }
            baseSiblings = services
            baseDirectory = (path as NSString).deletingLastPathComponent
        }
        let key = "\(baseDirectory)#\(file.map { Self.absolute($0, in: directory) } ?? "")#\(baseName)"
        guard !seen.contains(key) else {
            context.errors.append(.error("\(what): '\(baseName)' extends itself through a cycle", at: extends.location))
            return own
        }
        guard let baseEntry = baseSiblings.first(where: { $0.key == baseName }) else {
            context.errors.append(
                .error(
                    "\(what) names service '\(baseName)', which \(file.map { "\($0) does not define" } ?? "the stack does not define")",
                    at: extends.location))
            return own
        }
        var base = service(
            baseEntry.value, named: baseName, in: baseSiblings, directory: baseDirectory, seen: seen + [key])
        if baseDirectory != projectDirectory { base = Self.rebased(base, from: baseDirectory) }
        return StackLoader.mergeNodes(base, own, key: "")
    }

    /// The services of another stack file, read and interpolated once.
    mutating func services(of path: String, at location: SourceLocation) -> [YAMLEntry]? {
        if let known = files[path] { return known }
        do {
            guard let root = try YAMLReader.parse(try StackLoader.readFile(path), file: path) else {
                context.errors.append(.error("\(path) is empty; extends needs its services", at: location))
                return nil
            }
            let services = context.interpolate(root, with: interpolator)["services"]?.mapping ?? []
            files[path] = services
            return services
        } catch let diagnostic as Diagnostic {
            context.errors.append(diagnostic)
        } catch {
            context.errors.append(.error("cannot read \(path), named by extends", at: location))
        }
        return nil
    }

    static func absolute(_ path: String, in directory: String) -> String {
        let expanded = path.hasPrefix("~/") ? NSHomeDirectory() + path.dropFirst(1) : path
        return Paths.lexical(expanded.hasPrefix("/") ? expanded : directory + "/" + expanded)
    }

    /// A service from another file with its relative paths (build context, bind mounts,
    /// env files) made absolute against that file's directory.
    static func rebased(_ node: YAMLNode, from directory: String) -> YAMLNode {
        guard let entries = node.mapping else { return node }
        func path(_ value: YAMLNode) -> YAMLNode {
            guard let text = value.scalar, !value.isNull, !text.hasPrefix("/") else { return value }
            return YAMLNode(.scalar(absolute(text, in: directory), .string), at: value.location)
        }
        func mapping(_ value: YAMLNode, _ keys: Set<String>) -> YAMLNode {
            guard let items = value.mapping else { return value }
            return YAMLNode(
                .mapping(
                    items.map { item in
                        var copy = item
                        if keys.contains(item.key) { copy.value = path(item.value) }
                        return copy
                    }), at: value.location)
        }
        func bind(_ item: YAMLNode) -> YAMLNode {
            if item.mapping != nil { return item["type"]?.scalar == "bind" ? mapping(item, ["source"]) : item }
            guard let text = item.scalar, text.hasPrefix(".") || text.hasPrefix("~") else { return item }
            let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
            let source = absolute(parts[0], in: directory)
            return YAMLNode(.scalar(([source] + parts.dropFirst()).joined(separator: ":"), .string), at: item.location)
        }
        return YAMLNode(
            .mapping(
                entries.map { entry in
                    var copy = entry
                    switch entry.key {
                    case "build":
                        copy.value = entry.value.mapping != nil ? mapping(entry.value, ["context"]) : path(entry.value)
                    case "volumes":
                        copy.value = YAMLNode(
                            .sequence((entry.value.sequence ?? []).map(bind)), at: entry.value.location)
                    case "env_file":
                        if let items = entry.value.sequence {
                            copy.value = YAMLNode(
                                .sequence(items.map { $0.mapping != nil ? mapping($0, ["path"]) : path($0) }),
                                at: entry.value.location)
                        } else {
                            copy.value = path(entry.value)
                        }
                    default:
                        break
                    }
                    return copy
                }), at: node.location)
    }
}
