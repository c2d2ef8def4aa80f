import Foundation

#if canImport(Glibc)
    import Glibc
    private func systemOpen(_ path: String, _ flags: Int32) -> Int32 { Glibc.open(path, flags) }
#elseif canImport(Darwin)
    import Darwin
    private func systemOpen(_ path: String, _ flags: Int32) -> Int32 { Darwin.open(path, flags) }
#endif

/// Opening files that come from someone else (sample sets from a repository).
public enum Files {
    /// Opens `relative` inside `directory` for reading, refusing a symbolic link anywhere on the
    /// way out of `directory`, a path that leaves it, and anything but a regular file — checked
    /// on the opened descriptor, so a link swapped in afterwards is not followed either.
    public static func openInside(_ directory: String, _ relative: String) throws -> FileHandle {
        let components = relative.split(separator: "/", omittingEmptySubsequences: true)
        guard !relative.hasPrefix("/"), !components.isEmpty, !components.contains(where: { $0 == ".." || $0 == "." })
        else {
            throw PlatformError("\(relative) is not a path inside \(directory)")
        }
        // Every directory on the way must be a real directory, not a link elsewhere.
        var path = directory
        for component in components.dropLast() {
            path = (path as NSString).appendingPathComponent(String(component))
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            guard attributes?[.type] as? FileAttributeType == .typeDirectory else {
                throw PlatformError("\(path) is not a directory of the set (a link, or missing)")
            }
        }
        path = (path as NSString).appendingPathComponent(String(components.last!))
        let fd = systemOpen(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            let reason = errno == ELOOP ? "a symbolic link" : String(cString: strerror(errno))
            throw PlatformError("\(path) cannot be read: \(reason)")
        }
        var status = stat()
        guard fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw PlatformError("\(path) is not a regular file")
        }
        // Back to blocking reads (O_NONBLOCK only kept a FIFO from blocking the open).
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }
}
