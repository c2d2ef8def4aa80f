import Foundation
import Platform

/// Writes a POSIX (ustar + pax) tar archive in memory: small build contexts devenv makes
/// itself. A directory on disk is sent with `TarStream`, which never holds it whole.
public struct TarArchive: Sendable {
    private var bytes = Data()

    public init() {}

    /// Adds a regular file. Paths are relative, `/`-separated; long ones get a pax header.
    public mutating func addFile(
        _ path: String, _ contents: Data, mode: Int = 0o644, uid: Int = 0, gid: Int = 0, modified: Date = Date()
    ) throws {
        bytes.append(
            try TarHeader.bytes(
                path, type: "0", size: contents.count, mode: mode, modified: modified, uid: uid, gid: gid))
        bytes.append(contents)
        bytes.append(Data(count: TarHeader.padding(after: contents.count)))
    }

    public mutating func addDirectory(_ path: String, mode: Int = 0o755, modified: Date = Date()) throws {
        bytes.append(
            try TarHeader.bytes(
                path.hasSuffix("/") ? path : path + "/", type: "5", size: 0, mode: mode, modified: modified))
    }

    public mutating func addSymlink(_ path: String, target: String, modified: Date = Date()) throws {
        bytes.append(
            try TarHeader.bytes(path, type: "2", size: 0, mode: 0o777, modified: modified, linkTarget: target))
    }

    /// The finished archive (two zero blocks appended).
    public func data() -> Data {
        bytes + Data(count: TarHeader.trailerSize)
    }
}

/// The header blocks of one tar entry.
enum TarHeader {
    static let blockSize = 512
    /// Two zero blocks end an archive.
    static let trailerSize = 1024

    /// Zero bytes that round `size` up to a whole block.
    static func padding(after size: Int) -> Int {
        (blockSize - size % blockSize) % blockSize
    }

    /// The ustar header of an entry, preceded by a pax header when its path or link target
    /// does not fit ustar's 100 bytes.
    static func bytes(
        _ path: String, type: Character, size: Int, mode: Int, modified: Date, linkTarget: String = "",
        uid: Int = 0, gid: Int = 0
    ) throws -> Data {
        guard !path.isEmpty, !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
            throw DockerEngineError(
                .transport, "refusing tar entry \(path): paths must be relative and stay inside the context")
        }
        var out = Data()
        var name = path
        // ustar's size field holds 11 octal digits (8 GiB); a larger file says its size in pax.
        let hugeSize = size > 0o77777777777
        if path.utf8.count > 100 || linkTarget.utf8.count > 100 || hugeSize {
            var records = paxRecord("path", path)
            if !linkTarget.isEmpty { records += paxRecord("linkpath", linkTarget) }
            if hugeSize { records += paxRecord("size", String(size)) }
            out.append(
                header(
                    name: "PaxHeader/" + String(path.suffix(80)), type: "x", size: records.count, mode: 0o644,
                    modified: modified))
            out.append(records)
            out.append(Data(count: padding(after: records.count)))
            name = String(path.suffix(99))
        }
        out.append(
            header(
                name: name, type: type, size: hugeSize ? 0 : size, mode: mode, modified: modified,
                linkTarget: String(linkTarget.prefix(100)), uid: uid, gid: gid))
        return out
    }

    static func paxRecord(_ key: String, _ value: String) -> Data {
        // "<length> <key>=<value>\n", where length counts its own digits.
        let body = " \(key)=\(value)\n"
        var length = body.utf8.count + 1
        while String(length).count + body.utf8.count != length { length += 1 }
        return Data("\(length)\(body)".utf8)
    }

    private static func header(
        name: String, type: Character, size: Int, mode: Int, modified: Date, linkTarget: String = "",
        uid: Int = 0, gid: Int = 0
    ) -> Data {
        var header = [UInt8](repeating: 0, count: blockSize)
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
        octal(uid, at: 108, width: 8)
        octal(gid, at: 116, width: 8)
        octal(size, at: 124, width: 12)
        octal(max(0, Int(modified.timeIntervalSince1970)), at: 136, width: 12)
        put(String(type), at: 156, width: 1)
        put(linkTarget, at: 157, width: 100)
        put("ustar\u{0}00", at: 257, width: 8)
        // Names only for root: other ids are numeric, as the container's users may differ.
        if uid == 0 { put("root", at: 265, width: 32) }
        if gid == 0 { put("root", at: 297, width: 32) }
        for index in 148..<156 { header[index] = UInt8(ascii: " ") }
        let checksum = header.reduce(0) { $0 + Int($1) }
        put(String(String(checksum, radix: 8)).leftPadded(to: 6) + "\u{0} ", at: 148, width: 8)
        return Data(header)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
