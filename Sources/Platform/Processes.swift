import CPlatform
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
                        let target = try? FileManager.default.destinationOfSymbolicLink(
                            atPath: "/proc/\(pid)/fd/\(fd)"),
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

/// A child process started with chosen descriptors as its stdin, stdout and stderr, and
/// nothing else inherited (every other descriptor devenv opens is close-on-exec).
public final class SpawnedProcess: @unchecked Sendable {
    public let pid: Int32
    private let lock = NSLock()
    private var status: Int32?

    /// Starts `arguments[0]` (looked up on PATH) with `input`, `output` and `error` as its
    /// descriptors 0, 1 and 2.
    public init(_ arguments: [String], input: Int32, output: Int32, error: Int32) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input, 0)
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, error, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Nothing but 0, 1 and 2: libcurl's sockets are not close-on-exec, and a child holding
        // another connection's socket would keep that connection from ever ending.
        #if os(Linux)
            guard devenv_spawn_close_from(&actions, 3) == 0 else {
                throw PlatformError("cannot run \(arguments[0]): this C library cannot close inherited descriptors")
            }
        #else
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_CLOEXEC_DEFAULT))
        #endif
        let cArguments = arguments.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var child: pid_t = 0
        var result = posix_spawnp(&child, arguments[0], &actions, &attributes, cArguments, environ)
        // ETXTBSY: the program was just written, and a process forked by another thread at
        // that moment still holds it open for writing until its own exec closes the copy. The
        // window is short, so wait for it (at most about a second) rather than fail.
        var delay: UInt32 = 5_000
        while result == ETXTBSY && delay <= 320_000 {
            usleep(delay)
            delay *= 2
            result = posix_spawnp(&child, arguments[0], &actions, &attributes, cArguments, environ)
        }
        guard result == 0 else {
            throw PlatformError("cannot run \(arguments[0]): \(String(cString: strerror(result)))")
        }
        pid = child
    }

    /// Whether it still runs (reaping it if it ended).
    public var isRunning: Bool {
        lock.withLock {
            if status != nil { return false }
            var raw: Int32 = 0
            if waitpid(pid, &raw, WNOHANG) == pid { status = raw }
            return status == nil
        }
    }

    /// Waits for it to end (blocking).
    public func waitForExit() {
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        lock.withLock { status = status ?? raw }
    }

    public func terminate() {
        if isRunning { kill(pid, SIGTERM) }
    }

    /// The exit status once it ended: the code, or 128 + the signal that killed it.
    public var exitStatus: Int32? {
        lock.withLock {
            guard let raw = status else { return nil }
            let signal = raw & 0x7f
            return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
        }
    }

    /// What a short-lived program printed and how it ended.
    public struct Outcome: Sendable {
        public var status: Int32
        public var output: Data
        /// It did not finish within the timeout and was terminated.
        public var timedOut: Bool
    }

    /// Runs `arguments` to the end with `input` on its stdin (a socket, so a program that exits
    /// without reading it never raises SIGPIPE here), its stdout collected, its stderr
    /// discarded; terminated after `timeout` seconds.
    public static func run(_ arguments: [String], input: Data = Data(), timeout: TimeInterval) throws -> Outcome {
        let (ours, theirs) = try Sockets.pair()
        let output = try makePipe()
        let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
        let process: SpawnedProcess
        do {
            process = try SpawnedProcess(arguments, input: theirs, output: output.write, error: null)
        } catch {
            for fd in [ours, theirs, output.read, output.write, null] { close(fd) }
            throw error
        }
        for fd in [theirs, output.write, null] { close(fd) }
        let stdin = SocketConnection(adopting: ours)
        stdin.send(input)
        stdin.shutdownWrite()
        let expired = OnceFlag()
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
            if process.isRunning {
                expired.set()
                process.terminate()
            }
        }
        let collected = FileHandle(fileDescriptor: output.read, closeOnDealloc: true).readDataToEndOfFile()
        process.waitForExit()
        return Outcome(status: process.exitStatus ?? -1, output: collected, timedOut: expired.isSet)
    }
}

/// A pipe: `read` and `write` descriptors, both close-on-exec.
public func makePipe() throws -> (read: Int32, write: Int32) {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { throw PlatformError("pipe failed: \(PlatformError.lastErrno)") }
    Sockets.setCloseOnExec(fds[0])
    Sockets.setCloseOnExec(fds[1])
    return (fds[0], fds[1])
}

/// Signal numbers devenv handles, named once for both platforms.
public enum Signal {
    public static let interrupt = SIGINT
    public static let terminate = SIGTERM
    public static let kill = SIGKILL
    public static let windowChange = SIGWINCH
    public static let brokenPipe = SIGPIPE
}

/// Delivers signals to a handler on a queue instead of their default action, until cancelled
/// (then the default comes back).
///
/// One dispatch source per signal lives for the whole process and hands each signal to the
/// traps set at that moment. libdispatch installs its own handler once per signal, so
/// cancelling a source and setting the disposition back left a later trap deaf: the second
/// Ctrl-C-able step of a command (`up --attach` following logs after `up`) never heard Ctrl-C.
/// With no trap set, a signal gets its default action.
public final class SignalTrap: @unchecked Sendable {
    private let signals: [Int32]
    private let id = UUID()

    public init(_ signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) {
        self.signals = signals
        for number in signals { Self.registry.add(number, id: id, handler: handler) }
    }

    public func cancel() {
        for number in signals { Self.registry.remove(number, id: id) }
    }

    /// Ignores `number` for the rest of the process.
    public static func ignore(_ number: Int32) {
        signal(number, SIG_IGN)
    }

    private static let registry = Registry()

    private final class Registry: @unchecked Sendable {
        private let lock = NSLock()
        private var sources: [Int32: any DispatchSourceSignal] = [:]
        private var handlers: [Int32: [UUID: @Sendable (Int32) -> Void]] = [:]

        func add(_ number: Int32, id: UUID, handler: @escaping @Sendable (Int32) -> Void) {
            lock.withLock {
                handlers[number, default: [:]][id] = handler
                guard sources[number] == nil else { return }
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { [unowned self] in self.deliver(number) }
                source.resume()
                sources[number] = source
                // libdispatch installs its handler from its own thread after the resume; until
                // it has, the signal would be ignored. Wait for it (about a millisecond).
                for _ in 0..<1000 where Self.isIgnored(number) { usleep(200) }
            }
        }

        func remove(_ number: Int32, id: UUID) {
            lock.withLock { _ = handlers[number]?.removeValue(forKey: id) }
        }

        static func isIgnored(_ number: Int32) -> Bool {
            var current = sigaction()
            guard sigaction(number, nil, &current) == 0 else { return false }
            #if os(Linux)
                return unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == 1  // SIG_IGN
            #else
                return unsafeBitCast(current.__sigaction_u.__sa_handler, to: Int.self) == 1  // SIG_IGN
            #endif
        }

        private func deliver(_ number: Int32) {
            let current = lock.withLock { Array((handlers[number] ?? [:]).values) }
            if !current.isEmpty {
                current.forEach { $0(number) }
                return
            }
            // No trap: the default action, which for these signals (other than a window
            // change) ends the process as the signal would have.
            guard number != SIGWINCH && number != SIGCHLD && number != SIGURG else { return }
            signal(number, SIG_DFL)
            raise(number)
        }
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

    /// Puts the terminal on `fd` in raw mode (no echo, no line editing, no signals from keys:
    /// the program at the other end does all of it); returns what puts it back, or nil when
    /// `fd` is not a terminal.
    public static func makeRaw(_ fd: Int32) -> RawMode? {
        var saved = termios()
        guard tcgetattr(fd, &saved) == 0 else { return nil }
        var raw = saved
        cfmakeraw(&raw)
        guard tcsetattr(fd, TCSANOW, &raw) == 0 else { return nil }
        return RawMode(descriptor: fd, saved: saved)
    }

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
        guard reason == EWOULDBLOCK else {
            throw PlatformError("cannot lock \(path): \(String(cString: strerror(reason)))")
        }
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

/// A flag set once, from any thread.
public final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    public init() {}
    public func set() { lock.withLock { value = true } }
    public var isSet: Bool { lock.withLock { value } }
}

/// A terminal in raw mode; `restore()` (or the value going away) puts its settings back.
public final class RawMode: @unchecked Sendable {
    private let descriptor: Int32
    private var saved: termios
    private var restored = false
    private let lock = NSLock()

    init(descriptor: Int32, saved: termios) {
        self.descriptor = descriptor
        self.saved = saved
    }

    public func restore() {
        lock.withLock {
            guard !restored else { return }
            restored = true
            _ = tcsetattr(descriptor, TCSANOW, &saved)
        }
    }

    deinit { restore() }
}
