import Foundation

/// Writes a POSIX (ustar + pax) tar archive in memory: the build context `POST /build` takes.
public struct TarArchive: Sendable {
    private var bytes = Data()

    public init() {}

    /// Adds a regular file. Paths are relative, `/`-separated; long ones get a pax header.
    public mutating func addFile(_ path: String, _ contents: Data, mode: Int = 0o644, modified: Date = Date()) throws {
        try addEntry(path, type: "0", size: contents.count, mode: mode, modified: modified)
        bytes.append(contents)
        pad()
    }

    public mutating func addDirectory(_ path: String, mode: Int = 0o755, modified: Date = Date()) throws {
        try addEntry(path.hasSuffix("/") ? path : path + "/", type: "5", size: 0, mode: mode, modified: modified)
    }

    public mutating func addSymlink(_ path: String, target: String, modified: Date = Date()) throws {
        try addEntry(path, type: "2", size: 0, mode: 0o777, modified: modified, linkTarget: target)
    }

    /// The finished archive (two zero blocks appended).
    public func data() -> Data {
        bytes + Data(count: 1024)
    }

    /// Archives a directory tree (regular files, directories, symlinks), in sorted order so
    /// the same tree gives the same archive. `exclude` sees each relative path.
    public static func directory(
        at root: URL, exclude: (String) -> Bool = { _ in false }
    ) throws -> TarArchive {
        var archive = TarArchive()
        let manager = FileManager.default
        let base = root.standardizedFileURL.path
        guard let enumerator = manager.enumerator(atPath: base) else {
            throw DockerEngineError(.transport, "cannot read build context \(base)")
        }
        let paths = (enumerator.allObjects as? [String] ?? []).sorted()
        for relative in paths where !exclude(relative) {
            let full = base + "/" + relative
            let attributes = try manager.attributesOfItem(atPath: full)
            let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0o644
            let modified = attributes[.modificationDate] as? Date ?? Date()
            switch attributes[.type] as? FileAttributeType {
            case .typeDirectory?:
                try archive.addDirectory(relative, mode: mode, modified: modified)
            case .typeSymbolicLink?:
                try archive.addSymlink(
                    relative, target: manager.destinationOfSymbolicLink(atPath: full), modified: modified)
            case .typeRegular?:
                try archive.addFile(
                    relative, try Data(contentsOf: URL(fileURLWithPath: full)), mode: mode, modified: modified)
            default:
                continue  // sockets, fifos and devices do not belong in a build context
            }
        }
        return archive
    }

    private mutating func addEntry(
        _ path: String, type: Character, size: Int, mode: Int, modified: Date, linkTarget: String = ""
    ) throws {
        guard !path.isEmpty, !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
            throw DockerEngineError(
                .transport, "refusing tar entry \(path): paths must be relative and stay inside the context")
        }
        var name = path
        if path.utf8.count > 100 || linkTarget.utf8.count > 100 {
            var records = Self.paxRecord("path", path)
            if !linkTarget.isEmpty { records += Self.paxRecord("linkpath", linkTarget) }
            appendHeader(
                name: "PaxHeader/" + String(path.suffix(80)), type: "x", size: records.count, mode: 0o644,
                modified: modified)
            bytes.append(records)
            pad()
            name = String(path.suffix(99))
        }
        appendHeader(
            name: name, type: type, size: size, mode: mode, modified: modified,
            linkTarget: String(linkTarget.prefix(100)))
    }

    static func paxRecord(_ key: String, _ value: String) -> Data {
        // "<length> <key>=<value>\n", where length counts its own digits.
        let body = " \(key)=\(value)\n"
        var length = body.utf8.count + 1
        while String(length).count + body.utf8.count != length { length += 1 }
        return Data("\(length)\(body)".utf8)
    }

    private mutating func appendHeader(
        name: String, type: Character, size: Int, mode: Int, modified: Date, linkTarget: String = ""
    ) {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, width: Int) {
            for (index, byte) in text.utf8.prefix(width).enumerated() { header[offset + index] = byte }
        }
        func octal(_ value: Int, at offset: Int, width: Int) {
            put(
                String(String(value, radix: 8).suffix(width - 1)).leftPadded(to: width - 1), at: offset,
                width: width - 1)
        }
        put(name, at: 0, width: 100)
        octal(mode & 0o7777, at: 100, width: 8)
        octal(0, at: 108, width: 8)
        octal(0, at: 116, width: 8)
        octal(size, at: 124, width: 12)
        octal(max(0, Int(modified.timeIntervalSince1970)), at: 136, width: 12)
        put(String(type), at: 156, width: 1)
        put(linkTarget, at: 157, width: 100)
        put("ustar\u{0}00", at: 257, width: 8)
        put("root", at: 265, width: 32)
        put("root", at: 297, width: 32)
        for index in 148..<156 { header[index] = UInt8(ascii: " ") }
        let checksum = header.reduce(0) { $0 + Int($1) }
        put(String(String(checksum, radix: 8)).leftPadded(to: 6) + "\u{0} ", at: 148, width: 8)
        bytes.append(contentsOf: header)
    }

    private mutating func pad() {
        let remainder = bytes.count % 512
        if remainder != 0 { bytes.append(Data(count: 512 - remainder)) }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
