import Foundation

/// Compose's top-level `include:`: other stack files loaded as applications of their own
/// (their relative paths against their own directory, or `project_directory`; their own
/// `env_file`s for interpolation) whose services, volumes, networks, secrets and configs join
/// this stack. A name defined twice is an error, as in Compose; includes nest, cycles refused.
extension ExtendsResolver {
    static let includedSections = ["services", "volumes", "networks", "secrets", "configs"]

    /// `root` with its `include:` entries merged in and removed. `chain` holds the files
    /// being included around this one.
    mutating func include(_ root: YAMLNode, chain: [String] = []) -> YAMLNode {
        guard let node = root["include"], var entries = root.mapping else { return root }
        entries.removeAll { $0.key == "include" }
        guard let items = node.sequence else {
            context.errors.append(.error("include must be a list of files, found \(node.typeName)", at: node.location))
            return YAMLNode(.mapping(entries), at: root.location)
        }
        for item in items {
            guard let (paths, directory, environment) = includeEntry(item) else { continue }
            if let looping = paths.first(where: chain.contains) {
                context.errors.append(.error("include of \(looping) comes back to itself", at: item.location))
                continue
            }
            // Several paths are one application: the later ones override the first.
            var application: YAMLNode?
            for path in paths {
                guard
                    let part = self.application(
                        path, directory: directory, environment: environment, at: item.location, chain: chain)
                else { continue }
                application = application.map { StackLoader.mergeNodes($0, part, key: "") } ?? part
            }
            if let application { entries = merged(entries, application, from: paths[0], at: item.location) }
        }
        return YAMLNode(.mapping(entries), at: root.location)
    }

    /// One `include:` item: its files, their project directory and the variables its
    /// `env_file`s give for interpolation.
    mutating func includeEntry(_ item: YAMLNode) -> ([String], String, [String: String])? {
        if let text = item.scalar, !item.isNull {
            let path = Self.absolute(text, in: projectDirectory)
            return ([path], (path as NSString).deletingLastPathComponent, [:])
        }
        guard item.mapping != nil else {
            context.errors.append(.error("an item of include must be a path or a mapping with path", at: item.location))
            return nil
        }
        for entry in item.mapping ?? [] where !["path", "project_directory", "env_file"].contains(entry.key) {
            context.warnings.append(.warning("unknown key '\(entry.key)' in include (ignored)", at: entry.keyLocation))
        }
        let paths = item["path"].map { $0.sequence?.compactMap(\.scalar) ?? [$0.scalar].compactMap { $0 } } ?? []
        guard let first = paths.first else {
            context.errors.append(.error("an item of include needs a path", at: item.location))
            return nil
        }
        let absolutePaths = paths.map { Self.absolute($0, in: projectDirectory) }
        let directory =
            item["project_directory"]?.scalar.map { Self.absolute($0, in: projectDirectory) }
            ?? (Self.absolute(first, in: projectDirectory) as NSString).deletingLastPathComponent
        var environment: [String: String] = [:]
        let envFiles = item["env_file"].map { $0.sequence?.compactMap(\.scalar) ?? [$0.scalar].compactMap { $0 } } ?? []
        for file in envFiles {
            let path = Self.absolute(file, in: projectDirectory)
            do {
                for entry in try DotEnv.parse(try StackLoader.readFile(path), file: path) {
                    if let value = entry.value { environment[entry.key] = value }
                }
            } catch let diagnostic as Diagnostic {
                context.errors.append(diagnostic)
            } catch {
                context.errors.append(.error("cannot read env_file \(path) of include", at: item.location))
            }
        }
        return (absolutePaths, directory, environment)
    }

    /// An included file as this stack will use it: interpolated, its own includes and extends
    /// resolved, its relative paths made absolute against `directory`.
    mutating func application(
        _ path: String, directory: String, environment: [String: String], at location: SourceLocation, chain: [String]
    ) -> YAMLNode? {
        let root: YAMLNode?
        do {
            root = try YAMLReader.parse(try StackLoader.readFile(path), file: path)
        } catch let diagnostic as Diagnostic {
            context.errors.append(diagnostic)
            return nil
        } catch {
            context.errors.append(.error("cannot read \(path), named by include", at: location))
            return nil
        }
        guard let root, root.mapping != nil else {
            context.errors.append(.error("\(path), named by include, is not a stack file (a mapping)", at: location))
            return nil
        }
        var nested = ExtendsResolver(
            context: context, interpolator: interpolator.adding(environment), projectDirectory: directory)
        var resolved = nested.context.interpolate(root, with: nested.interpolator)
        resolved = nested.include(resolved, chain: chain + [path])
        resolved = nested.resolve(resolved)
        context = nested.context
        return Self.rebasedApplication(resolved, from: directory)
    }

    /// Each section's entries of `included` added to `entries`; a name both define is an error.
    mutating func merged(
        _ entries: [YAMLEntry], _ included: YAMLNode, from path: String, at location: SourceLocation
    ) -> [YAMLEntry] {
        var result = entries
        for section in Self.includedSections {
            guard let additions = included[section]?.mapping, !additions.isEmpty else { continue }
            let index = result.firstIndex { $0.key == section }
            var existing = index.flatMap { result[$0].value.mapping } ?? []
            for addition in additions {
                if existing.contains(where: { $0.key == addition.key }) {
                    context.errors.append(
                        .error(
                            "\(section.dropLast()) '\(addition.key)' is defined here and in \(path), which is included; rename one",
                            at: location))
                    continue
                }
                existing.append(addition)
            }
            let node = YAMLNode(.mapping(existing), at: index.map { result[$0].value.location } ?? location)
            if let index {
                result[index].value = node
            } else {
                result.append(YAMLEntry(key: section, keyLocation: location, value: node))
            }
        }
        return result
    }

    /// Every service's relative paths, and the `file:` of secrets and configs, made absolute.
    static func rebasedApplication(_ root: YAMLNode, from directory: String) -> YAMLNode {
        guard let entries = root.mapping else { return root }
        return YAMLNode(
            .mapping(
                entries.map { entry in
                    guard let items = entry.value.mapping else { return entry }
                    var copy = entry
                    switch entry.key {
                    case "services":
                        copy.value = YAMLNode(
                            .mapping(
                                items.map {
                                    YAMLEntry(
                                        key: $0.key, keyLocation: $0.keyLocation,
                                        value: rebased($0.value, from: directory))
                                }),
                            at: entry.value.location)
                    case "secrets", "configs":
                        copy.value = YAMLNode(
                            .mapping(
                                items.map { item in
                                    guard let file = item.value["file"]?.scalar, !file.hasPrefix("/"),
                                        let settings = item.value.mapping
                                    else {
                                        return item
                                    }
                                    let updated = settings.map { setting in
                                        setting.key == "file"
                                            ? YAMLEntry(
                                                key: "file", keyLocation: setting.keyLocation,
                                                value: YAMLNode(
                                                    .scalar(absolute(file, in: directory), .string),
                                                    at: setting.value.location))
                                            : setting
                                    }
                                    return YAMLEntry(
                                        key: item.key, keyLocation: item.keyLocation,
                                        value: YAMLNode(.mapping(updated), at: item.value.location))
                                }), at: entry.value.location)
                    default:
                        break
                    }
                    return copy
                }), at: root.location)
    }
}
