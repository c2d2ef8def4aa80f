import DevEnvModel
import Foundation
import Platform
import StateStore

/// One `up` or `down` per project at a time: an exclusive `flock` on
/// `<state dir>/locks/<project>.lock`, holding who took it. A second command on the same
/// project waits for the first and says whom it waits for; other projects run in parallel.
/// The kernel drops the lock when its process dies (SIGKILL included), so it never goes stale.
public final class ProjectLock: @unchecked Sendable {
    public struct Holder: Sendable, Codable, Equatable {
        public var pid: Int32
        public var command: String
        public var since: Date
    }

    let lock: FileLock
    public var path: String { lock.path }

    /// Takes the lock, waiting (off the cooperative pool) while another process holds it;
    /// `waiting` is told once, with the holder when it can be read.
    public static func acquire(
        project: String, command: String, statePath: String = StateStore.defaultPath(),
        waiting: @Sendable (Holder?) -> Void
    ) async throws -> ProjectLock {
        let directory = ((statePath as NSString).deletingLastPathComponent as NSString).appendingPathComponent("locks")
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let safeName = String(project.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
        let path = (directory as NSString).appendingPathComponent(safeName + ".lock")
        let lock: FileLock
        do {
            if let free = try FileLock.tryLock(path) {
                lock = free
            } else {
                waiting(readHolder(path))
                lock = try await offCooperativePool { try FileLock.lock(path) }
            }
        } catch let error as PlatformError {
            throw DevEnvError("cannot take the project lock: \(error.message)")
        }
        let projectLock = ProjectLock(lock: lock)
        projectLock.record(Holder(pid: Processes.currentID, command: command, since: Date()))
        return projectLock
    }

    init(lock: FileLock) {
        self.lock = lock
    }

    deinit {
        lock.clear()
    }

    func record(_ holder: Holder) {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        guard let data = try? encoder.encode(holder) else { return }
        lock.write(data)
    }

    static func readHolder(_ path: String) -> Holder? {
        guard let data = FileLock.peek(path), !data.isEmpty else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(Holder.self, from: data)
    }
}
