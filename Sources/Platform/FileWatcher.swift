import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reports changes under directory trees: files created, written, removed or renamed, and new
/// subdirectories (which are then watched too). Linux uses inotify, Darwin kqueue. Each batch
/// holds the paths seen changing within `settle` of each other, so an editor's save (write,
/// rename, chmod) arrives as one batch.
public final class FileWatcher: @unchecked Sendable {
    public let changes: AsyncStream<[String]>
    private let continuation: AsyncStream<[String]>.Continuation
    private let lock = NSLock()
    private var stopped = false
    private let descriptor: Int32
    private var watched: [Int32: String] = [:]
    private let settle: TimeInterval

    public init(directories: [String], settle: TimeInterval = 0.1) throws {
        (changes, continuation) = AsyncStream.makeStream(of: [String].self)
        self.settle = settle
        #if os(Linux)
            descriptor = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        #else
            descriptor = kqueue()
        #endif
        guard descriptor >= 0 else { throw PlatformError("cannot watch files: \(PlatformError.lastErrno)") }
        for directory in directories { try addTree(directory) }
        Thread.detachNewThread { [self] in run() }
    }

    deinit {
        stop()
    }

    /// Ends the stream; the watch thread leaves at its next wake-up.
    public func stop() {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        if first { continuation.finish() }
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func addTree(_ root: String) throws {
        try add(root)
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            let path = (root as NSString).appendingPathComponent(relative)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                try add(path)
            }
        }
    }

    private func add(_ directory: String) throws {
        if lock.withLock({ watched.values.contains(directory) }) { return }
        #if os(Linux)
            let mask = UInt32(
                IN_CREATE | IN_MODIFY | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ATTRIB
                    | IN_DELETE_SELF)
            let watch = inotify_add_watch(descriptor, directory, mask)
            guard watch >= 0 else { throw PlatformError("cannot watch \(directory): \(PlatformError.lastErrno)") }
            lock.withLock { watched[watch] = directory }
        #else
            let fd = open(directory, O_EVTONLY)
            guard fd >= 0 else { throw PlatformError("cannot watch \(directory): \(PlatformError.lastErrno)") }
            var change = kevent(
                ident: UInt(fd), filter: Int16(EVFILT_VNODE), flags: UInt16(EV_ADD | EV_CLEAR),
                fflags: UInt32(NOTE_WRITE | NOTE_DELETE | NOTE_RENAME | NOTE_EXTEND | NOTE_ATTRIB), data: 0,
                udata: nil)
            guard kevent(descriptor, &change, 1, nil, 0, nil) == 0 else {
                close(fd)
                throw PlatformError("cannot watch \(directory): \(PlatformError.lastErrno)")
            }
            lock.withLock { watched[fd] = directory }
        #endif
    }

    private func run() {
        defer {
            close(descriptor)
            #if !os(Linux)
                for fd in lock.withLock({ watched.keys }) { close(fd) }
            #endif
        }
        var pending: [String] = []
        var firstPending: Date?
        while !isStopped {
            let waitMilliseconds: Int32 = firstPending == nil ? 200 : Int32(max(1, settle * 1000))
            let changed = readEvents(waitMilliseconds: waitMilliseconds)
            for path in changed where !pending.contains(path) { pending.append(path) }
            if !changed.isEmpty && firstPending == nil { firstPending = Date() }
            if let first = firstPending, changed.isEmpty || Date().timeIntervalSince(first) >= settle * 5 {
                continuation.yield(pending)
                pending = []
                firstPending = nil
            }
        }
    }

    /// The paths changed since the last call, waiting up to `waitMilliseconds` for the first.
    private func readEvents(waitMilliseconds: Int32) -> [String] {
        #if os(Linux)
            guard Sockets.waitReadable(descriptor, milliseconds: waitMilliseconds) else { return [] }
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            let count = read(descriptor, &buffer, buffer.count)
            guard count > 0 else { return [] }
            var paths: [String] = []
            var offset = 0
            let header = MemoryLayout<inotify_event>.size
            while offset + header <= count {
                let (watch, mask, length) = buffer.withUnsafeBytes { raw -> (Int32, UInt32, Int) in
                    let event = raw.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                    return (event.wd, event.mask, Int(event.len))
                }
                let nameBytes = buffer[(offset + header)..<min(count, offset + header + length)].prefix { $0 != 0 }
                offset += header + length
                guard let directory = lock.withLock({ watched[watch] }) else { continue }
                let path =
                    nameBytes.isEmpty
                    ? directory
                    : (directory as NSString).appendingPathComponent(String(decoding: nameBytes, as: UTF8.self))
                if mask & UInt32(IN_ISDIR) != 0 && mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 {
                    try? addTree(path)
                }
                if mask & UInt32(IN_IGNORED) == 0 { paths.append(path) }
            }
            return paths
        #else
            var event = kevent()
            var timeout = timespec(
                tv_sec: Int(waitMilliseconds / 1000), tv_nsec: Int(waitMilliseconds % 1000) * 1_000_000)
            guard kevent(descriptor, nil, 0, &event, 1, &timeout) == 1,
                let directory = lock.withLock({ watched[Int32(event.ident)] })
            else { return [] }
            // kqueue names the directory, not the entry: look for new subdirectories to watch.
            try? addTree(directory)
            return [directory]
        #endif
    }
}
