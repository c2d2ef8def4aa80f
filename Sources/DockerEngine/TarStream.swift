import Foundation
import Platform

/// A directory sent as a tar archive while it is read: the build context of `POST /build`.
///
/// The entries are listed up front — their sizes fix the archive's length, so the request
/// has a Content-Length — and each file's contents are read from disk only as the engine
/// takes them, a block at a time, so memory stays flat whatever the context's size.
/// Files are opened without following links; a file that shrinks while it is sent ends
/// the upload with an error rather than a corrupt archive.
public final class TarStream: UploadSource, @unchecked Sendable {
    struct Entry {
        enum Kind { case directory, file, symlink(String) }
        /// The name in the archive.
        let path: String
        /// Where it is: `source` under the directory `root` on disk (opened without following a
        /// link out of `root`).
        var root: String
        var source: String
        let kind: Kind
        let size: Int
        let mode: Int
        let modified: Date

        /// The same file under another name in the archive.
        func named(_ name: String) -> Entry {
            Entry(path: name, root: root, source: source, kind: kind, size: size, mode: mode, modified: modified)
        }
    }

    public let length: Int
    /// How many entries the archive holds.
    public var entryCount: Int { entries.count }
    private let entries: [Entry]
    // Reading state: touched only by the one thread the transfer runs on.
    private var next = 0
    private var pending = Data()
    private var pendingOffset = 0
    private var file: FileHandle?
    private var fileLeft = 0
    private var fileEntry: Entry?
    private var trailerSent = false
    private static let chunk = 1 << 20

    /// Lists `root` (regular files, directories, symlinks) in sorted order, so the same tree
    /// gives the same archive. `exclude` sees each relative path.
    public convenience init(directory root: URL, exclude: (String) -> Bool = { _ in false }) throws {
        let base = root.standardizedFileURL.path
        guard let enumerator = FileManager.default.enumerator(atPath: base) else {
            throw DockerEngineError(.transport, "cannot read build context \(base)")
        }
        let listed = (enumerator.allObjects as? [String] ?? []).sorted().filter { !exclude($0) }
        try self.init(entries: listed.compactMap { try Self.entry(base, $0) })
    }

    /// `item` (a file, or a directory and everything under it) at the archive's top as `name`:
    /// what `devenv cp` sends.
    public convenience init(item: URL, named name: String) throws {
        try self.init(items: [(item.standardizedFileURL.path, name)])
    }

    /// Several files or directories (each with everything under it), each under its own name:
    /// what `devenv watch` sends for one batch of changes.
    public convenience init(items: [(path: String, name: String)]) throws {
        var entries: [Entry] = []
        for (path, name) in items {
            let parent = (path as NSString).deletingLastPathComponent
            let base = (path as NSString).lastPathComponent
            guard let top = try Self.entry(parent, base) else { continue }
            entries.append(top.named(name))
            if case .directory = top.kind, let enumerator = FileManager.default.enumerator(atPath: path) {
                for relative in (enumerator.allObjects as? [String] ?? []).sorted() {
                    if let entry = try Self.entry(parent, base + "/" + relative) {
                        entries.append(entry.named(name + "/" + relative))
                    }
                }
            }
        }
        try self.init(entries: entries)
    }

    private init(entries: [Entry]) throws {
        var length = TarHeader.trailerSize
        for entry in entries {
            length += try Self.header(entry).count + entry.size + TarHeader.padding(after: entry.size)
        }
        self.entries = entries
        self.length = length
    }

    /// The entry for `relative` under `base`: regular files, directories and symlinks (sockets,
    /// fifos and devices do not belong in an archive of files).
    static func entry(_ base: String, _ relative: String) throws -> Entry? {
        let attributes = try FileManager.default.attributesOfItem(atPath: base + "/" + relative)
        let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0o644
        let modified = attributes[.modificationDate] as? Date ?? Date()
        switch attributes[.type] as? FileAttributeType {
        case .typeDirectory?:
            return Entry(
                path: relative, root: base, source: relative, kind: .directory, size: 0, mode: mode, modified: modified)
        case .typeSymbolicLink?:
            let target = try FileManager.default.destinationOfSymbolicLink(atPath: base + "/" + relative)
            return Entry(
                path: relative, root: base, source: relative, kind: .symlink(target), size: 0, mode: 0o777,
                modified: modified)
        case .typeRegular?:
            let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
            return Entry(
                path: relative, root: base, source: relative, kind: .file, size: size, mode: mode, modified: modified)
        default:
            return nil
        }
    }

    static func header(_ entry: Entry) throws -> Data {
        switch entry.kind {
        case .directory:
            try TarHeader.bytes(
                entry.path.hasSuffix("/") ? entry.path : entry.path + "/", type: "5", size: 0, mode: entry.mode,
                modified: entry.modified)
        case .symlink(let target):
            try TarHeader.bytes(
                entry.path, type: "2", size: 0, mode: entry.mode, modified: entry.modified, linkTarget: target)
        case .file:
            try TarHeader.bytes(entry.path, type: "0", size: entry.size, mode: entry.mode, modified: entry.modified)
        }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var written = 0
        while written < buffer.count {
            if pendingOffset < pending.count {
                let count = min(buffer.count - written, pending.count - pendingOffset)
                pending.withUnsafeBytes { bytes in
                    buffer.baseAddress!.advanced(by: written).copyMemory(
                        from: bytes.baseAddress!.advanced(by: pendingOffset), byteCount: count)
                }
                pendingOffset += count
                written += count
                continue
            }
            if let handle = file, let entry = fileEntry {
                if fileLeft == 0 {
                    try? handle.close()
                    file = nil
                    fileEntry = nil
                    load(Data(count: TarHeader.padding(after: entry.size)))
                    continue
                }
                let data = try handle.read(upToCount: min(fileLeft, Self.chunk, buffer.count - written)) ?? Data()
                guard !data.isEmpty else {
                    throw DockerEngineError(
                        .transport,
                        "\(entry.root)/\(entry.source) became shorter while it was being sent to the engine; run the command again"
                    )
                }
                fileLeft -= data.count
                load(data)
                continue
            }
            guard next < entries.count else {
                if trailerSent { break }
                trailerSent = true
                load(Data(count: TarHeader.trailerSize))
                continue
            }
            let entry = entries[next]
            next += 1
            load(try Self.header(entry))
            if case .file = entry.kind {
                do {
                    file = try Files.openInside(entry.root, entry.source)
                } catch {
                    throw DockerEngineError(.transport, "cannot send \(entry.root)/\(entry.source): \(error)")
                }
                fileEntry = entry
                fileLeft = entry.size
            }
        }
        return written
    }

    private func load(_ data: Data) {
        pending = data
        pendingOffset = 0
    }
}

/// An in-memory body sent through the same path as a stream.
public final class DataUpload: UploadSource, @unchecked Sendable {
    private let data: Data
    private var offset = 0
    public var length: Int { data.count }

    public init(_ data: Data) { self.data = data }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, data.count - offset)
        guard count > 0 else { return 0 }
        data.withUnsafeBytes { bytes in
            buffer.baseAddress!.copyMemory(from: bytes.baseAddress!.advanced(by: offset), byteCount: count)
        }
        offset += count
        return count
    }
}
