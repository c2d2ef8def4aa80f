import Foundation
import Platform

/// Reaches an `ssh://` engine the way the docker CLI does: each connection is one
/// `ssh … HOST docker system dial-stdio`, speaking HTTP over ssh's stdin and stdout.
///
/// libcurl is pointed at a private unix socket (in a 0700 directory of this user); every
/// connection accepted there becomes ssh's stdin and stdout, so ssh talks to libcurl directly
/// and nothing is copied in between. (libcurl 7.88 cannot take an already connected socket:
/// it connects it again, curl/curl#10626.)
public final class SSHRelay: @unchecked Sendable {
    let user: String?
    let host: String
    let port: Int?
    let command: String
    private let listener: UnixListener
    private let lock = NSLock()
    /// The newest ssh's stderr, and a signal that it ended.
    private var lastError = ""
    private var lastEnded = DispatchSemaphore(value: 0)

    /// The socket libcurl connects to.
    var socketPath: String { listener.path }

    init(user: String?, host: String, port: Int?, command: String) throws {
        self.user = user
        self.host = host
        self.port = port
        self.command = command
        let directory = (NSTemporaryDirectory() as NSString).appendingPathComponent("devenv-\(Processes.userID)")
        try? FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        Self.removeDeadSockets(in: directory)
        listener = try UnixListener(
            path: (directory as NSString).appendingPathComponent(
                "ssh-\(Processes.currentID)-\(UUID().uuidString.prefix(8)).sock"))
        Thread.detachNewThread { [weak self, listener] in
            while let connection = listener.accept() {
                guard let self else {
                    Sockets.closeDescriptor(connection)
                    return
                }
                self.serve(connection)
            }
        }
    }

    /// The arguments after the program: never a prompt (BatchMode), a bounded connect, no TTY.
    var arguments: [String] {
        var arguments = ["-o", "ConnectTimeout=30", "-o", "BatchMode=yes", "-T"]
        if let user { arguments += ["-l", user] }
        if let port { arguments += ["-p", String(port)] }
        return arguments + ["--", host, "docker", "system", "dial-stdio"]
    }

    /// One ssh for one accepted connection; it ends when libcurl closes the connection.
    private func serve(_ connection: Int32) {
        let ended = DispatchSemaphore(value: 0)
        lock.withLock {
            lastError = ""
            lastEnded = ended
        }
        defer { Sockets.closeDescriptor(connection) }
        guard let errors = try? makePipe() else {
            ended.signal()
            return
        }
        let process: SpawnedProcess
        do {
            process = try SpawnedProcess(
                [command] + arguments, input: connection, output: connection, error: errors.write)
        } catch {
            lock.withLock { lastError = "\(error)" }
            ended.signal()
            Sockets.closeDescriptor(errors.read)
            Sockets.closeDescriptor(errors.write)
            return
        }
        Sockets.closeDescriptor(errors.write)
        Thread.detachNewThread { [weak self] in
            let text = String(
                decoding: FileHandle(fileDescriptor: errors.read, closeOnDealloc: true).readDataToEndOfFile(),
                as: UTF8.self)
            if let self {
                self.lock.withLock { self.lastError = text.trimmingCharacters(in: .whitespacesAndNewlines) }
            }
            ended.signal()
            process.waitForExit()
        }
    }

    /// What the newest ssh wrote to stderr (its reason for failing), for the error message:
    /// waits a moment for a failing ssh to finish writing it.
    var lastErrorLine: String? {
        let ended = lock.withLock { lastEnded }
        if ended.wait(timeout: .now() + 2) == .success { ended.signal() }
        return lock.withLock { lastError.split(separator: "\n").last.map(String.init) }
    }

    /// The host ssh really connects to for `host` (`ssh -G` applies ~/.ssh/config: a Host
    /// alias's HostName), so ports the engine publishes are looked for there; nil when ssh cannot say.
    public static func configuredHostName(command: String, user: String?, host: String, port: Int?) -> String? {
        var arguments = [command, "-G"]
        if let user { arguments += ["-l", user] }
        if let port { arguments += ["-p", String(port)] }
        guard let outcome = try? SpawnedProcess.run(arguments + ["--", host], timeout: 10), outcome.status == 0 else {
            return nil
        }
        for line in String(decoding: outcome.output, as: UTF8.self).split(separator: "\n")
        where line.hasPrefix("hostname ") {
            let name = line.dropFirst("hostname ".count).trimmingCharacters(in: .whitespaces)
            return name.isEmpty ? nil : name
        }
        return nil
    }

    /// Sockets of devenv processes that ended without removing theirs (`ssh-<pid>-<id>.sock`).
    /// Never probed by connecting: a connection to a live relay would start an ssh.
    static func removeDeadSockets(in directory: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where name.hasPrefix("ssh-") && name.hasSuffix(".sock") {
            let owner = name.split(separator: "-").dropFirst().first.flatMap { Int32($0) }
            if let owner, Processes.isRunning(owner) { continue }
            try? FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(name))
        }
    }
}
