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
        // The ignore patterns are read once (the build context's .dockerignore from disk), not
        // for every changed file.
        let watched = services.map(WatchedService.init)
        await withTaskCancellationHandler {
            for await batch in watcher.changes {
                for service in watched {
                    await apply(batch, to: service)
                }
            }
        } onCancel: {
            watcher.stop()
        }
    }

    /// A service's watch rules with their ignore patterns, and its build context's.
    struct WatchedService {
        let service: Service
        let rules: [(rule: WatchRule, ignore: DockerIgnore)]
        let context: (path: String, ignore: DockerIgnore)?

        init(_ service: Service) {
            self.service = service
            rules = (service.watch ?? []).map { ($0, DockerIgnore(text: $0.ignore.joined(separator: "\n"))) }
            context = service.build.map { ($0.context, DockerIgnore(contextDirectory: $0.context)) }
        }

        /// Whether the rule's `ignore` or the build context's `.dockerignore` keeps `path`
        /// (`relative` to the rule's path) out.
        func ignores(_ path: String, relative: String, by ignore: DockerIgnore) -> Bool {
            if !relative.isEmpty, ignore.excludes(relative) { return true }
            if let context, let inContext = Orchestrator.relative(path, under: context.path), !inContext.isEmpty {
                return context.ignore.excludes(inContext)
            }
            return false
        }
    }

    /// What one batch of changed paths means for one service.
    func apply(_ changed: [String], to watched: WatchedService) async {
        let service = watched.service
        var rebuild: [String] = []
        var sync: [(path: String, target: String)] = []
        var restart = false
        for path in changed {
            for (rule, ignore) in watched.rules {
                guard let relative = Self.relative(path, under: rule.path),
                    !watched.ignores(path, relative: relative, by: ignore)
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
        var copied: [(path: String, name: String)] = []
        var deleted: [String] = []
        for (path, target) in files {
            if FileManager.default.fileExists(atPath: path) {
                copied.append((path, String(target.drop { $0 == "/" })))
            } else {
                deleted.append(target)
            }
        }
        do {
            // Read from disk as the engine takes it, directories with what is under them.
            if !copied.isEmpty {
                try await engine.putArchive(container, path: "/", upload: try TarStream(items: copied))
            }
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
        if !copied.isEmpty { parts.append("\(Self.names(copied.map(\.path))) → \(Self.common(files.map(\.target)))") }
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
