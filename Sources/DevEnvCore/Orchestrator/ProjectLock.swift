import Foundation
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

    let descriptor: Int32
    public let path: String

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
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw OrchestratorError("cannot open the project lock \(path): \(String(cString: strerror(errno)))")
        }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK else {
                close(descriptor)
                throw OrchestratorError("cannot lock \(path): \(String(cString: strerror(errno)))")
            }
            waiting(readHolder(descriptor))
            let status = try await offCooperativePool { flock(descriptor, LOCK_EX) }
            guard status == 0 else {
                close(descriptor)
                throw OrchestratorError("cannot lock \(path): \(String(cString: strerror(errno)))")
            }
        }
        let lock = ProjectLock(descriptor: descriptor, path: path)
        lock.record(Holder(pid: getpid(), command: command, since: Date()))
        return lock
    }

    init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit {
        ftruncate(descriptor, 0)
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    func record(_ holder: Holder) {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        guard let data = try? encoder.encode(holder) else { return }
        ftruncate(descriptor, 0)
        _ = data.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }

    static func readHolder(_ descriptor: Int32) -> Holder? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = pread(descriptor, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(Holder.self, from: Data(buffer[0..<count]))
    }
}
