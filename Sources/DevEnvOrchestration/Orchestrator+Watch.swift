import DevEnvModel
import DevEnvRuntime
import DockerEngine
import Foundation
import Platform

/// `devenv watch` and `up --watch`: the services' `develop.watch` rules, run as files change.
///
/// Changes come from the platform's file watcher, settled into batches (an editor's save is one
/// batch). Per service and batch: a `rebuild` rule that matched rebuilds the image and
/// recreates the container (as `up --build SERVICE`); otherwise the matched `sync` and
/// `sync+restart` files go into the running container in one tar through the archive endpoint,
/// deleted ones are removed with one `rm`, and a matched `sync+restart` then restarts it.
/// A rule's `ignore` patterns and the build context's `.dockerignore` (for paths inside it)
/// keep files out. One line per action; a failure names the file and the watch goes on.
extension Orchestrator {
    public func watch(_ names: [String]) async throws {
        let services = try selectedServices(names).filter { !($0.watch ?? []).isEmpty }
        guard !services.isEmpty else {
            throw DevEnvError(
                "no service\(names.isEmpty ? "" : " of \(names.joined(separator: ", "))") has develop.watch rules; add develop: {watch: [{action: sync, path: ./src, target: /app/src}]}",
                exitCode: 2)
        }
        var roots: [String] = []
        for rule in services.flatMap({ $0.watch ?? [] }) {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: rule.path, isDirectory: &isDirectory) else {
                throw DevEnvError("develop.watch path \(rule.path) does not exist on this machine", exitCode: 2)
            }
            let root = isDirectory.boolValue ? rule.path : (rule.path as NSString).deletingLastPathComponent
            if !roots.contains(root) { roots.append(root) }
        }
        let watcher = try FileWatcher(directories: roots, settle: 0.03)
        defer { watcher.stop() }
        emit(nil, .watching, services.map(\.name).joined(separator: ", "))
        await withTaskCancellationHandler {
            for await batch in watcher.changes {
                for service in services {
                    await apply(batch, to: service)
                }
            }
        } onCancel: {
            watcher.stop()
        }
    }

    /// What one batch of changed paths means for one service.
    func apply(_ changed: [String], to service: Service) async {
        let rules = service.watch ?? []
        var rebuild: [String] = []
        var sync: [(path: String, target: String)] = []
        var restart = false
        for path in changed {
            for rule in rules {
                guard let relative = Self.relative(path, under: rule.path), !ignored(relative, path, rule, service)
                else { continue }
                switch rule.action {
                case .rebuild:
                    rebuild.append(path)
                case .sync, .syncRestart:
                    let target = rule.target ?? "/"
                    sync.append((path, relative.isEmpty ? target : target + "/" + relative))
                    if rule.action == .syncRestart { restart = true }
                }
                break
            }
        }
        if !rebuild.isEmpty {
            emit(service.name, .rebuilding, Self.names(rebuild))
            do {
                _ = try await up(UpOptions(services: [service.name], build: true))
            } catch {
                emit(service.name, .failed, "rebuild after \(Self.names(rebuild)): \(Self.reason(error))")
            }
            return
        }
        guard !sync.isEmpty else { return }
        await syncFiles(sync, to: service, restart: restart)
    }

    func syncFiles(_ files: [(path: String, target: String)], to service: Service, restart: Bool) async {
        let started = ContinuousClock.now
        let container: String
        do {
            let list = try await engine.listContainers(
                all: false, labels: [ProjectLabel.project: stack.name, ProjectLabel.service: service.name])
            guard let first = list.first else {
                emit(
                    service.name, .failed,
                    "not running: \(Self.names(files.map(\.path))) not synced; 'devenv up' starts it")
                return
            }
            container = first.Id
        } catch {
            emit(service.name, .failed, "\(Self.names(files.map(\.path))) not synced: \(Self.reason(error))")
            return
        }
        var archive = TarArchive()
        var copied: [String] = []
        var deleted: [String] = []
        for (path, target) in files {
            var isDirectory: ObjCBool = false
            let name = String(target.drop { $0 == "/" })
            do {
                if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
                    deleted.append(target)
                } else if isDirectory.boolValue {
                    try archive.addDirectory(name)
                    let enumerator = FileManager.default.enumerator(atPath: path)
                    while let inner = enumerator?.nextObject() as? String {
                        try Self.add(path + "/" + inner, as: name + "/" + inner, to: &archive)
                    }
                    copied.append(path)
                } else {
                    try Self.add(path, as: name, to: &archive)
                    copied.append(path)
                }
            } catch {
                emit(service.name, .failed, "\(path) not synced: \(Self.reason(error))")
            }
        }
        do {
            if !copied.isEmpty { try await engine.putArchive(container, path: "/", tar: archive.data()) }
            if !deleted.isEmpty {
                let result = try await engine.exec(
                    container: container, config: ExecConfig(cmd: ["rm", "-rf", "--"] + deleted))
                if result.exitCode != 0 {
                    emit(service.name, .failed, "could not delete \(deleted.joined(separator: ", ")): \(result.stderr)")
                }
            }
        } catch {
            emit(service.name, .failed, "\(Self.names(files.map(\.path))) not synced: \(Self.reason(error))")
            return
        }
        let milliseconds = Int((ContinuousClock.now - started) / .milliseconds(1))
        var parts: [String] = []
        if !copied.isEmpty { parts.append("\(Self.names(copied)) → \(Self.common(files.map(\.target)))") }
        if !deleted.isEmpty { parts.append("deleted \(deleted.joined(separator: ", "))") }
        emit(service.name, .synced, parts.joined(separator: "; ") + " in \(milliseconds) ms")
        if restart {
            do {
                _ = try await self.restart([service.name])
            } catch {
                emit(service.name, .failed, "restart after sync: \(Self.reason(error))")
            }
        }
    }

    /// Whether the rule's `ignore` or the build context's `.dockerignore` keeps `path` out.
    func ignored(_ relative: String, _ path: String, _ rule: WatchRule, _ service: Service) -> Bool {
        if !relative.isEmpty, DockerIgnore(text: rule.ignore.joined(separator: "\n")).excludes(relative) {
            return true
        }
        if let context = service.build?.context, let inContext = Self.relative(path, under: context),
            !inContext.isEmpty
        {
            return DockerIgnore(contextDirectory: context).excludes(inContext)
        }
        return false
    }

    static func add(_ path: String, as name: String, to archive: inout TarArchive) throws {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0o644
        switch attributes[.type] as? FileAttributeType {
        case .typeDirectory?: try archive.addDirectory(name, mode: mode)
        case .typeSymbolicLink?:
            try archive.addSymlink(name, target: try FileManager.default.destinationOfSymbolicLink(atPath: path))
        case .typeRegular?: try archive.addFile(name, try Data(contentsOf: URL(fileURLWithPath: path)), mode: mode)
        default: break
        }
    }

    /// `path` relative to `root` ("" for the root itself), or nil when it is not under it.
    static func relative(_ path: String, under root: String) -> String? {
        if path == root { return "" }
        let prefix = root.hasSuffix("/") ? root : root + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : nil
    }

    /// A short list of file names for a line of output.
    static func names(_ paths: [String]) -> String {
        let names = paths.map { ($0 as NSString).lastPathComponent }
        return names.count <= 3
            ? names.joined(separator: ", ") : names.prefix(3).joined(separator: ", ") + " and \(names.count - 3) more"
    }

    /// The deepest directory the container paths share.
    static func common(_ targets: [String]) -> String {
        guard targets.count > 1 else { return targets.first ?? "/" }
        var parts = targets[0].split(separator: "/")
        for target in targets.dropFirst() {
            let other = target.split(separator: "/")
            parts = Array(zip(parts, other).prefix { $0 == $1 }.map(\.0))
        }
        return "/" + parts.joined(separator: "/")
    }
}
