import Foundation

#if canImport(Glibc)
    import Glibc
    private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { Glibc.open(path, flags, mode) }
#elseif canImport(Darwin)
    import Darwin
    private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { Darwin.open(path, flags, mode) }
#endif

/// Facts about processes: this one's executable, another's start time and liveness, and who
/// listens on a port. Linux reads procfs; Darwin asks the kernel with sysctl.
public enum Processes {
    public static var currentID: Int32 { getpid() }
    public static var userID: UInt32 { getuid() }

    /// The path of this process's executable, symlinks resolved.
    public static func executablePath() -> String {
        #if os(Linux)
            let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        #else
            var size: UInt32 = 0
            _ = _NSGetExecutablePath(nil, &size)
            var buffer = [CChar](repeating: 0, count: Int(size) + 1)
            let path = _NSGetExecutablePath(&buffer, &size) == 0 ? String(cString: buffer) : nil
        #endif
        let resolved = path ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: resolved).resolvingSymlinksInPath().path
    }

    /// Whether a process with `pid` exists (ours or another user's).
    public static func isRunning(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }

    /// Replaces this process with `arguments[0]` (looked up on PATH), with `variables` added to
    /// the environment. Returns only when that fails, with the reason.
    public static func replaceCurrent(with arguments: [String], adding variables: [String: String]) -> String {
        for (name, value) in variables { setenv(name, value, 1) }
        let cArguments = arguments.map { strdup($0) } + [nil]
        execvp(arguments[0], cArguments)
        return String(cString: strerror(errno))
    }

    /// Sends `signal` to `pid`.
    public static func send(_ signal: Int32, to pid: Int32) {
        kill(pid, signal)
    }

    /// When `pid` started, as an opaque string that differs for a recycled PID; nil when it
    /// cannot be read. Linux: field 22 of `/proc/PID/stat` (clock ticks since boot); Darwin:
    /// `kp_proc.p_starttime` (seconds.microseconds).
    public static func startTime(of pid: Int32) -> String? {
        #if os(Linux)
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            // The command name (field 2) may hold spaces and parentheses: count after its end.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // fields[0] is field 3 (state), so field 22 is fields[19].
            return fields.count > 19 ? String(fields[19]) : nil
        #else
            var info = kinfo_proc()
            var size = MemoryLayout<kinfo_proc>.stride
            var name: [Int32] = [CTL_KERN, KERN_PROC, KERN_PROC_PID, pid]
            guard sysctl(&name, 4, &info, &size, nil, 0) == 0, size > 0 else { return nil }
            let started = info.kp_proc.p_un.__p_starttime
            return "\(started.tv_sec).\(started.tv_usec)"
        #endif
    }

    /// The process listening on TCP `port`, as `name (pid N)`, where this user can see it.
    /// Linux only (procfs); elsewhere nil, and the caller names just the port.
    public static func listener(ofTCPPort port: Int) -> String? {
        #if os(Linux)
            var inodes: Set<String> = []
            for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
                guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { continue }
                for line in text.split(separator: "\n").dropFirst() {
                    let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                    guard fields.count > 9, fields[3] == "0A",  // LISTEN
                        let portHex = fields[1].split(separator: ":").last, Int(portHex, radix: 16) == port
                    else { continue }
                    inodes.insert(String(fields[9]))
                }
            }
            guard !inodes.isEmpty, let pids = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else {
                return nil
            }
            for pid in pids where Int(pid) != nil {
                guard let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd") else {
                    continue
                }
                for fd in fds {
                    guard
                        let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)"),
                        target.hasPrefix("socket:["), inodes.contains(String(target.dropFirst(8).dropLast()))
                    else { continue }
                    let name =
                        (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?
                        .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
                    return "\(name) (pid \(pid))"
                }
            }
            return nil
        #else
            return nil
        #endif
    }
}

/// Signal numbers devenv handles, named once for both platforms.
public enum Signal {
    public static let interrupt = SIGINT
    public static let terminate = SIGTERM
    public static let kill = SIGKILL
    public static let windowChange = SIGWINCH
}

/// Delivers signals to a handler on a queue instead of their default action, until cancelled
/// (then the default comes back).
public final class SignalTrap: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]
    private let signals: [Int32]

    public init(_ signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) {
        self.signals = signals
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { handler(number) }
            source.resume()
            return source
        }
    }

    public func cancel() {
        sources.forEach { $0.cancel() }
        for number in signals { signal(number, SIG_DFL) }
    }
}

/// The machine, its disks and its terminal.
public enum Host {
    /// `uname`'s system name (`Linux`, `Darwin`) and machine (`x86_64`, `arm64`).
    public static func system() -> (name: String, machine: String) {
        var uts = utsname()
        uname(&uts)
        func text<T>(_ field: inout T) -> String {
            withUnsafeBytes(of: &field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return (text(&uts.sysname), text(&uts.machine))
    }

    /// Free bytes for this user on the filesystem holding `path` (or its nearest existing parent).
    public static func freeBytes(at path: String) -> Int64? {
        var candidate = path
        while !FileManager.default.fileExists(atPath: candidate), candidate != "/" {
            candidate = (candidate as NSString).deletingLastPathComponent
            if candidate.isEmpty { candidate = "/" }
        }
        var stats = statvfs()
        guard statvfs(candidate, &stats) == 0 else { return nil }
        return Int64(stats.f_bavail) * Int64(stats.f_frsize)
    }

    public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    public static let standardInput: Int32 = 0
    public static let standardOutput: Int32 = 1
    public static let standardError: Int32 = 2

    /// The terminal's size in rows and columns, when `fd` is a terminal.
    public static func terminalSize(_ fd: Int32) -> (rows: Int, columns: Int)? {
        var size = winsize()
        guard ioctl(fd, UInt(TIOCGWINSZ), &size) == 0, size.ws_row > 0 else { return nil }
        return (Int(size.ws_row), Int(size.ws_col))
    }
}

/// An exclusive advisory lock on a file (`flock`), released when the value is, or when the
/// process dies: it never goes stale.
public final class FileLock: @unchecked Sendable {
    public let descriptor: Int32
    public let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    /// The lock if it is free now; nil when another process holds it.
    public static func tryLock(_ path: String) throws -> FileLock? {
        let descriptor = try open(path)
        if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return FileLock(descriptor: descriptor, path: path) }
        let reason = errno
        close(descriptor)
        guard reason == EWOULDBLOCK else { throw PlatformError("cannot lock \(path): \(String(cString: strerror(reason)))") }
        return nil
    }

    /// Waits for the lock (blocking: run it off the cooperative pool).
    public static func lock(_ path: String) throws -> FileLock {
        let descriptor = try open(path)
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else {
                let reason = String(cString: strerror(errno))
                close(descriptor)
                throw PlatformError("cannot lock \(path): \(reason)")
            }
        }
        return FileLock(descriptor: descriptor, path: path)
    }

    /// The file's content (what the holder wrote), up to 4 KiB, without taking the lock.
    public static func peek(_ path: String) -> Data? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        return try? handle.read(upToCount: 4096)
    }

    /// Replaces the file's content (who holds the lock, for others to read).
    public func write(_ data: Data) {
        ftruncate(descriptor, 0)
        _ = data.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }

    /// Empties the file before the lock goes.
    public func clear() {
        ftruncate(descriptor, 0)
    }

    private static func open(_ path: String) throws -> Int32 {
        let descriptor = systemOpen(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw PlatformError("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        return descriptor
    }
}
