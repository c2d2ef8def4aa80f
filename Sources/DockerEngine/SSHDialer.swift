import Foundation
import Platform

/// Opens engine connections over ssh the way the docker CLI does for `ssh://` hosts: each
/// connection is one `ssh … HOST docker system dial-stdio`, whose stdin and stdout are one end
/// of a socket pair; the other end is handed to libcurl as an already connected socket.
final class SSHDialer: @unchecked Sendable {
    let user: String?
    let host: String
    let port: Int?
    let command: String
    private let lock = NSLock()
    private var processes: [Int32: Process] = [:]
    private var lastError = ""

    init(user: String?, host: String, port: Int?, command: String) {
        self.user = user
        self.host = host
        self.port = port
        self.command = command
    }

    /// The arguments after the program: never a prompt (BatchMode), a bounded connect, no TTY.
    var arguments: [String] {
        var arguments = ["-o", "ConnectTimeout=30", "-o", "BatchMode=yes", "-T"]
        if let user { arguments += ["-l", user] }
        if let port { arguments += ["-p", String(port)] }
        return arguments + ["--", host, "docker", "system", "dial-stdio"]
    }

    /// A connected socket to the engine, or -1 (ssh could not start).
    func dial() -> Int32 {
        guard let (ours, theirs) = try? Sockets.pair() else { return -1 }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [command] + arguments
        let child = FileHandle(fileDescriptor: theirs, closeOnDealloc: false)
        process.standardInput = child
        process.standardOutput = child
        let errors = Pipe()
        process.standardError = errors
        errors.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard !data.isEmpty, let self else {
                handle.readabilityHandler = nil
                return
            }
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.isEmpty { self.lock.withLock { self.lastError = text } }
        }
        do {
            try process.run()
        } catch {
            lock.withLock { lastError = "cannot run \(command): \(error)" }
            Sockets.closeDescriptor(ours)
            Sockets.closeDescriptor(theirs)
            return -1
        }
        // The child has its copy; ours would keep the pair open after ssh exits.
        Sockets.closeDescriptor(theirs)
        lock.withLock { processes[ours] = process }
        return ours
    }

    /// curl is done with a connection: closing our end ends ssh's stdin, and so ssh.
    func close(_ fd: Int32) {
        let process = lock.withLock { processes.removeValue(forKey: fd) }
        Sockets.closeDescriptor(fd)
        if let process {
            // dial-stdio leaves when its stdin ends; a stuck ssh does not outlive devenv's need.
            DispatchQueue.global().asyncAfter(deadline: .now() + 5) {
                if process.isRunning { process.terminate() }
            }
        }
    }

    /// What ssh last wrote to stderr (its reason for failing), for the error message.
    var lastErrorLine: String? {
        lock.withLock { lastError.split(separator: "\n").last.map(String.init) }
    }
}
