import DevEnvModel
import DockerEngine
import Foundation

/// `devenv cp`: files between this machine and a service's container (running or stopped),
/// through the engine's archive endpoints, so it works on a remote engine as on a local one.
/// Paths follow `docker cp`: into an existing directory the source keeps its name; otherwise
/// it takes the destination's.
public enum ContainerCopy {
    public struct Outcome: Sendable, Codable {
        public var entries: Int
        public var skipped: [String]
    }

    /// The service's container (the first one, running or not).
    static func container(of service: String, in stack: Stack, engine: DockerClient) async throws -> String {
        guard stack.service(service) != nil else {
            throw DevEnvError("no service '\(service)' in \(stack.name)", exitCode: 2)
        }
        let containers = try await engine.listContainers(
            all: true, labels: [ProjectLabel.project: stack.name, ProjectLabel.service: service])
        guard let container = containers.first else {
            throw DevEnvError("service '\(service)' of \(stack.name) has no container; 'devenv up \(service)' makes it")
        }
        return container.Id
    }

    /// `SERVICE:PATH` → a local path.
    public static func download(
        service: String, path: String, to local: String, stack: Stack, engine: DockerClient
    ) async throws -> Outcome {
        let id = try await container(of: service, in: stack, engine: engine)
        guard try await engine.statPath(id, path: path) != nil else {
            throw DevEnvError("\(service):\(path) does not exist")
        }
        var isDirectory: ObjCBool = false
        let destination: String
        let rename: String?
        if FileManager.default.fileExists(atPath: local, isDirectory: &isDirectory), isDirectory.boolValue {
            (destination, rename) = (local, nil)
        } else {
            let parent = (local as NSString).deletingLastPathComponent
            let directory = parent.isEmpty ? "." : parent
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
            else {
                throw DevEnvError("\(directory) is not a directory on this machine; create it first")
            }
            (destination, rename) = (directory, (local as NSString).lastPathComponent)
        }
        var extractor = TarExtractor(into: destination, renameTop: rename)
        for try await chunk in try await engine.getArchive(id, path: path) { try extractor.feed(chunk) }
        try extractor.finish()
        return Outcome(entries: extractor.written, skipped: extractor.skipped)
    }

    /// A local path → `SERVICE:PATH`.
    public static func upload(
        _ local: String, service: String, path: String, stack: Stack, engine: DockerClient
    ) async throws -> Outcome {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: local, isDirectory: &isDirectory) else {
            throw DevEnvError("\(local) does not exist on this machine")
        }
        let sourceIsDirectory = isDirectory.boolValue
        let id = try await container(of: service, in: stack, engine: engine)
        let directory: String
        let name: String
        if let stat = try await engine.statPath(id, path: path), stat.isDirectory {
            (directory, name) = (path, (Paths.lexical(local) as NSString).lastPathComponent)
        } else {
            if try await engine.statPath(id, path: path) != nil && sourceIsDirectory {
                throw DevEnvError("\(service):\(path) is a file; a directory cannot replace it")
            }
            let parent = (Paths.lexical(path) as NSString).deletingLastPathComponent
            directory = parent.isEmpty ? "/" : parent
            guard let stat = try await engine.statPath(id, path: directory), stat.isDirectory else {
                throw DevEnvError("\(service):\(directory) is not a directory; create it first")
            }
            name = (Paths.lexical(path) as NSString).lastPathComponent
        }
        let archive = try TarStream(item: URL(fileURLWithPath: local), named: name)
        try await engine.putArchive(id, path: directory, upload: archive)
        return Outcome(entries: archive.entryCount, skipped: [])
    }
}
