import Foundation

/// What to load: the `-f` files (or the first default file in `workingDirectory`), the
/// project name override, the environment for interpolation and the enabled profiles.
public struct StackLoadOptions: Sendable {
    public var files: [String]
    public var projectName: String?
    public var workingDirectory: String
    public var environment: [String: String]
    public var profiles: [String]

    public init(
        files: [String] = [], projectName: String? = nil,
        workingDirectory: String = FileManager.default.currentDirectoryPath,
        environment: [String: String] = ProcessInfo.processInfo.environment, profiles: [String] = []
    ) {
        self.files = files
        self.projectName = projectName
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.profiles = profiles
    }
}

/// A loaded stack and the warnings found on the way.
public struct LoadedStack: Sendable {
    public var stack: Stack
    public var warnings: [Diagnostic]
    /// Services the file declares but whose profiles are not enabled.
    public var inactiveServices: [String]
}

/// Reads Compose files into a `Stack`: merge, interpolate, normalize, validate. Every error
/// is collected with its file:line:col; none touches the engine.
public enum StackLoader {
    public static let defaultFileNames = ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"]

    public static func load(_ options: StackLoadOptions) throws(StackFileErrors) -> LoadedStack {
        var context = LoadContext()
        let files = try resolveFiles(options)
        let projectDirectory = (files[0] as NSString).deletingLastPathComponent

        // Process environment wins over the project's .env file.
        var environment = options.environment
        let dotEnvPath = projectDirectory + "/.env"
        if FileManager.default.fileExists(atPath: dotEnvPath) {
            do {
                for entry in try DotEnv.parse(try readFile(dotEnvPath), file: dotEnvPath)
                where environment[entry.key] == nil {
                    if let value = entry.value { environment[entry.key] = value }
                }
            } catch let diagnostic as Diagnostic {
                throw StackFileErrors([diagnostic])
            } catch {
                throw StackFileErrors([.error("cannot read \(dotEnvPath): \(error)", at: nil)])
            }
        }
        let interpolator = Interpolator(environment: environment)

        var merged: YAMLNode?
        for file in files {
            let text: String
            do {
                text = try readFile(file)
            } catch let diagnostic as Diagnostic {
                throw StackFileErrors([diagnostic])
            } catch {
                throw StackFileErrors([.error("cannot read stack file \(file)", at: nil)])
            }
            let root: YAMLNode?
            do {
                root = try YAMLReader.parse(text, file: file)
            } catch {
                throw StackFileErrors([error])
            }
            guard let root else { continue }  // an empty file adds nothing
            guard root.mapping != nil else {
                throw StackFileErrors([
                    .error("a stack file must be a mapping, found \(root.typeName)", at: root.location)
                ])
            }
            let interpolated = context.interpolate(root, with: interpolator)
            merged = merged.map { mergeNodes($0, interpolated, key: "") } ?? interpolated
        }
        guard let mergedRoot = merged else {
            throw StackFileErrors([
                .error("the stack file is empty", at: SourceLocation(file: files[0], line: 1, column: 1))
            ])
        }
        var extends = ExtendsResolver(context: context, interpolator: interpolator, projectDirectory: projectDirectory)
        let root = extends.resolve(extends.include(mergedRoot, chain: files))
        context = extends.context
        guard context.errors.isEmpty else { throw StackFileErrors(context.errors) }

        var parser = StackParser(
            context: context, projectDirectory: projectDirectory, environment: environment,
            enabledProfiles: Set(
                options.profiles + (environment["COMPOSE_PROFILES"] ?? "").split(separator: ",").map(String.init)))
        let name = projectName(
            options: options, environment: environment, root: root, directory: projectDirectory, parser: &parser)
        let (stack, inactive) = parser.stack(root, name: name, files: files)
        // Warnings go with the errors: one may be the reason (an env_file outside the project).
        guard parser.context.errors.isEmpty, let stack else {
            throw StackFileErrors(parser.context.errors + parser.context.warnings)
        }
        return LoadedStack(stack: stack, warnings: parser.context.warnings, inactiveServices: inactive)
    }

    static func resolveFiles(_ options: StackLoadOptions) throws(StackFileErrors) -> [String] {
        func absolute(_ path: String) -> String {
            let full = path.hasPrefix("/") ? path : options.workingDirectory + "/" + path
            return Paths.lexical(full)
        }
        // `COMPOSE_FILE` (paths split by `COMPOSE_PATH_SEPARATOR`, default `:`) when no -f.
        let separator = options.environment["COMPOSE_PATH_SEPARATOR"].flatMap(\.first) ?? ":"
        let given =
            !options.files.isEmpty
            ? options.files
            : (options.environment["COMPOSE_FILE"] ?? "").split(separator: separator).map(String.init)
        if !given.isEmpty {
            let files = given.map(absolute)
            for file in files where !FileManager.default.fileExists(atPath: file) {
                throw StackFileErrors([.error("stack file \(file) does not exist", at: nil)])
            }
            return files
        }
        for name in defaultFileNames {
            let candidate = absolute(name)
            guard FileManager.default.fileExists(atPath: candidate) else { continue }
            // As Compose: the found file, then its override file next to it, if there is one
            // (compose.yaml → compose.override.yaml or .yml).
            let stem = (name as NSString).deletingPathExtension
            let override = ["yaml", "yml"].map { absolute("\(stem).override.\($0)") }
                .first { FileManager.default.fileExists(atPath: $0) }
            return [candidate] + (override.map { [$0] } ?? [])
        }
        throw StackFileErrors([
            .error(
                "no stack file in \(options.workingDirectory) (looked for \(defaultFileNames.joined(separator: ", "))); pass -f FILE",
                at: nil)
        ])
    }

    /// Stack files, `.env` and `env_file`s are read whole; past this they are refused (real ones
    /// are kilobytes; a runaway generator's output should not take the machine's memory).
    static let maximumFileSize = 8 << 20

    static func readFile(_ path: String) throws -> String {
        let data = try readBounded(path)
        guard let text = String(data: data, encoding: .utf8) else {
            throw Diagnostic.error(
                "the file is not UTF-8 text (a byte that is not UTF-8 is here); save it as UTF-8",
                at: firstInvalidUTF8(data, file: path))
        }
        return text
    }

    /// A regular file's bytes, at most `maximumFileSize` of them. Devices, pipes and
    /// directories are refused: `/dev/zero` or a FIFO named by a stack file, an `include` or a
    /// secret would otherwise be read forever.
    package static func readBounded(_ path: String) throws -> Data {
        let place = SourceLocation(file: path, line: 1, column: 1)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        guard attributes[.type] as? FileAttributeType == .typeRegular else {
            throw Diagnostic.error("this is not a regular file (a device, pipe or directory); name a file", at: place)
        }
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        func tooLarge(_ size: Int) -> Diagnostic {
            Diagnostic.error(
                String(
                    format: "the file is %.1f MiB (%d bytes); a stack file is read whole, at most %d MiB (%d bytes)",
                    Double(size) / 1_048_576, size, maximumFileSize >> 20, maximumFileSize),
                at: place)
        }
        guard size <= maximumFileSize else { throw tooLarge(size) }
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        // The size can grow between the check and the read (a file being written).
        let data = try handle.read(upToCount: maximumFileSize + 1) ?? Data()
        guard data.count <= maximumFileSize else { throw tooLarge(data.count) }
        return data
    }

    /// Where the first byte that is not UTF-8 is.
    static func firstInvalidUTF8(_ data: Data, file: String) -> SourceLocation {
        var line = 1
        var column = 1
        var index = data.startIndex
        while index < data.endIndex {
            let byte = data[index]
            let length =
                byte < 0x80 ? 1 : byte >> 5 == 0b110 ? 2 : byte >> 4 == 0b1110 ? 3 : byte >> 3 == 0b11110 ? 4 : 0
            let end = index + length
            guard length > 0, end <= data.endIndex, String(data: data[index..<end], encoding: .utf8) != nil else {
                break
            }
            if byte == 0x0a {
                line += 1
                column = 1
            } else {
                column += 1
            }
            index = end
        }
        return SourceLocation(file: file, line: line, column: column)
    }

    /// `-p`, then `COMPOSE_PROJECT_NAME`, then the file's `name:`, then the directory name;
    /// normalized as Compose does (lowercase, `[a-z0-9_-]`).
    static func projectName(
        options: StackLoadOptions, environment: [String: String], root: YAMLNode, directory: String,
        parser: inout StackParser
    ) -> String {
        let explicit = options.projectName ?? environment["COMPOSE_PROJECT_NAME"].flatMap { $0.isEmpty ? nil : $0 }
        var raw = explicit ?? ((directory as NSString).lastPathComponent)
        if explicit == nil, let node = root["name"] {
            if let value = parser.string(node, "name") { raw = value }
        }
        let normalized = normalizeProjectName(raw)
        if normalized.isEmpty {
            parser.context.errors.append(
                .error(
                    "project name '\(raw)' has no usable characters (use lowercase letters, digits, '-' and '_'); pass -p NAME",
                    at: root["name"]?.location))
        }
        return normalized
    }

    public static func normalizeProjectName(_ raw: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789_-")
        let lowered = raw.lowercased().filter { allowed.contains($0) }
        return String(lowered.drop { $0 == "_" || $0 == "-" })
    }

    /// Compose's merge of an override file: mappings merge key by key; list-valued keys that
    /// accumulate (ports, volumes, env_file…) concatenate; environment and labels merge as
    /// maps whichever form they are in; anything else is replaced.
    static func mergeNodes(_ base: YAMLNode, _ override: YAMLNode, key: String) -> YAMLNode {
        if ["environment", "labels", "args"].contains(key) {
            let merged = mapForm(base) + mapForm(override)
            var entries: [YAMLEntry] = []
            for entry in merged {
                entries.removeAll { $0.key == entry.key }
                entries.append(entry)
            }
            return YAMLNode(.mapping(entries), at: override.location)
        }
        switch (base.kind, override.kind) {
        case (.mapping(let left), .mapping(let right)):
            var entries = left
            for entry in right {
                if let index = entries.firstIndex(where: { $0.key == entry.key }) {
                    entries[index].value = mergeNodes(entries[index].value, entry.value, key: entry.key)
                } else {
                    entries.append(entry)
                }
            }
            return YAMLNode(.mapping(entries), at: override.location)
        case (.sequence(let left), .sequence(let right)) where key == "volumes":
            // By mount target, as Compose merges them: the override's mount replaces the one
            // at the same path (two mounts at one path are an error within one file).
            let replaced = Set(right.compactMap(mountTarget))
            return YAMLNode(
                .sequence(left.filter { mountTarget($0).map { !replaced.contains($0) } ?? true } + right),
                at: override.location)
        case (.sequence(let left), .sequence(let right))
        where ["ports", "expose", "env_file", "profiles", "extra_hosts", "dns"].contains(key):
            return YAMLNode(.sequence(left + right), at: override.location)
        default:
            return override
        }
    }

    /// The container path of a `volumes:` item, short (`SOURCE:TARGET[:MODE]`, `TARGET`) or long.
    static func mountTarget(_ item: YAMLNode) -> String? {
        if let target = item["target"]?.scalar { return Paths.lexical(target) }
        guard let text = item.scalar else { return nil }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        return Paths.lexical(String(parts.count == 1 ? parts[0] : parts[1]))
    }

    /// `environment:`/`labels:` in either form, as mapping entries (`KEY` alone → null value).
    static func mapForm(_ node: YAMLNode) -> [YAMLEntry] {
        if let entries = node.mapping { return entries }
        guard let items = node.sequence else { return [] }
        return items.compactMap { item in
            guard let text = item.scalar else { return nil }
            let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let value =
                parts.count == 2
                ? YAMLNode(.scalar(String(parts[1]), .string), at: item.location)
                : YAMLNode(.scalar("", .null), at: item.location)
            return YAMLEntry(key: String(parts[0]), keyLocation: item.location, value: value)
        }
    }
}

/// Diagnostics collected while loading.
struct LoadContext {
    var errors: [Diagnostic] = []
    var warnings: [Diagnostic] = []
    private var reportedUnset: Set<String> = []

    /// Interpolates every scalar value (keys are left alone, as in Compose).
    mutating func interpolate(_ node: YAMLNode, with interpolator: Interpolator) -> YAMLNode {
        switch node.kind {
        case .scalar(let text, let tag):
            guard text.contains("$") else { return node }
            do {
                let (value, unset) = try interpolator.interpolate(text)
                for variable in unset where reportedUnset.insert(variable).inserted {
                    warnings.append(
                        .warning("variable \(variable) is not set; using an empty string", at: node.location))
                }
                return YAMLNode(
                    .scalar(value, tag == .null ? .null : (value == text ? tag : .string)), at: node.location)
            } catch {
                switch error {
                case .required(let variable, let message):
                    errors.append(.error("\(message) (variable \(variable))", at: node.location))
                case .invalid(let problem):
                    let shown = text.utf8.count > 80 ? "\(text.prefix(60))… (\(text.utf8.count) bytes)" : text
                    errors.append(.error("invalid interpolation in '\(shown)': \(problem)", at: node.location))
                }
            }
            return node
        case .mapping(let entries):
            return YAMLNode(
                .mapping(
                    entries.map {
                        YAMLEntry(
                            key: $0.key, keyLocation: $0.keyLocation, value: interpolate($0.value, with: interpolator))
                    }),
                at: node.location)
        case .sequence(let items):
            return YAMLNode(.sequence(items.map { interpolate($0, with: interpolator) }), at: node.location)
        }
    }
}
