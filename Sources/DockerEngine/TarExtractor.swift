import Foundation

/// Unpacks a tar stream (ustar, pax and GNU long names, as engines write them) into a
/// directory as it arrives: what `devenv cp SERVICE:PATH LOCAL` receives from
/// `GET /containers/{id}/archive`.
///
/// Regular files, directories and symbolic links are written; other kinds (devices, fifos,
/// hard links) are listed in `skipped`. An entry whose name leaves the directory (`..`, an
/// absolute path) is refused before anything of it is written. The archive's top entry may be
/// renamed (`docker cp c:/etc/app.conf ./local.conf`).
public struct TarExtractor {
    public let directory: String
    /// The first path component of every entry becomes this, when set.
    public let renameTop: String?
    /// Entries not written, with why.
    public private(set) var skipped: [String] = []
    public private(set) var written = 0

    private var buffer = Data()
    private var file: FileHandle?
    private var fileLeft = 0
    private var padding = 0
    private var paxPath: String?
    private var paxLink: String?
    private var longName: String?
    private var longLink: String?
    private var pendingMetadata: (kind: UInt8, size: Int)?
    private var ended = false

    public init(into directory: String, renameTop: String? = nil) {
        self.directory = directory
        self.renameTop = renameTop
    }

    /// Takes the next bytes of the archive.
    public mutating func feed(_ data: Data) throws {
        buffer.append(data)
        while !ended {
            if let handle = file {
                guard !buffer.isEmpty else { return }
                let count = min(fileLeft, buffer.count)
                handle.write(buffer.prefix(count))
                buffer.removeFirst(count)
                fileLeft -= count
                if fileLeft == 0 {
                    try handle.close()
                    file = nil
                }
                continue
            }
            if padding > 0 {
                let count = min(padding, buffer.count)
                guard count > 0 else { return }
                buffer.removeFirst(count)
                padding -= count
                continue
            }
            if let metadata = pendingMetadata {
                guard buffer.count >= metadata.size else { return }
                let body = buffer.prefix(metadata.size)
                buffer.removeFirst(metadata.size)
                padding = Self.padding(metadata.size)
                pendingMetadata = nil
                readMetadata(kind: metadata.kind, Data(body))
                continue
            }
            guard buffer.count >= 512 else { return }
            let header = Data(buffer.prefix(512))
            buffer.removeFirst(512)
            if header.allSatisfy({ $0 == 0 }) {
                ended = true
                return
            }
            try entry(header)
        }
    }

    /// Says whether the archive ended cleanly (its trailer, or at least no entry cut short).
    public func finish() throws {
        if file != nil || pendingMetadata != nil {
            throw DockerEngineError(.malformedResponse, "the archive from the engine ended in the middle of an entry")
        }
    }

    private mutating func entry(_ header: Data) throws {
        let bytes = [UInt8](header)
        let kind = bytes[156]
        let size = Self.number(bytes[124..<136])
        switch kind {
        case UInt8(ascii: "x"), UInt8(ascii: "L"), UInt8(ascii: "K"):
            pendingMetadata = (kind, size)
            return
        case UInt8(ascii: "g"):
            padding = size + Self.padding(size)
            return
        default:
            break
        }
        var name = paxPath ?? longName ?? Self.name(bytes)
        let link = paxLink ?? longLink ?? Self.string(bytes[157..<257])
        (paxPath, paxLink, longName, longLink) = (nil, nil, nil, nil)
        let mode = Self.number(bytes[100..<108])
        if let renameTop {
            var parts = name.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
            if !parts.isEmpty { parts[0] = renameTop }
            name = parts.joined(separator: "/")
        }
        let body = size + Self.padding(size)
        guard let target = inside(name) else {
            throw DockerEngineError(
                .malformedResponse, "the archive names \(name), outside \(directory); nothing of it was written")
        }
        switch kind {
        case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
            try FileManager.default.createDirectory(
                atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(
                atPath: target, contents: nil, attributes: [.posixPermissions: mode & 0o7777])
            guard let handle = FileHandle(forWritingAtPath: target) else {
                throw DockerEngineError(.transport, "cannot write \(target)")
            }
            try handle.truncate(atOffset: 0)
            written += 1
            if size > 0 {
                file = handle
                fileLeft = size
                padding = Self.padding(size)
            } else {
                try handle.close()
            }
        case UInt8(ascii: "5"):
            try FileManager.default.createDirectory(
                atPath: target, withIntermediateDirectories: true, attributes: [.posixPermissions: mode & 0o7777])
            written += 1
            padding = body
        case UInt8(ascii: "2"):
            try FileManager.default.createDirectory(
                atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try? FileManager.default.removeItem(atPath: target)
            try FileManager.default.createSymbolicLink(atPath: target, withDestinationPath: link)
            written += 1
            padding = body
        default:
            skipped.append("\(name) (tar type \(Character(UnicodeScalar(kind))): not a file, directory or link)")
            padding = body
        }
    }

    private mutating func readMetadata(kind: UInt8, _ body: Data) {
        if kind == UInt8(ascii: "L") {
            longName = Self.string(body)
        } else if kind == UInt8(ascii: "K") {
            longLink = Self.string(body)
        } else {
            // "LEN key=value\n" records.
            var rest = Substring(String(decoding: body, as: UTF8.self))
            while let space = rest.firstIndex(of: " "), let length = Int(rest[..<space]), length > 0,
                length <= rest.utf8.count
            {
                let record = rest.utf8.prefix(length)
                rest = Substring(rest.utf8.dropFirst(length))
                let text = String(decoding: record, as: UTF8.self)
                guard let start = text.firstIndex(of: " "), let equals = text.firstIndex(of: "=") else { continue }
                let key = text[text.index(after: start)..<equals]
                let value = String(text[text.index(after: equals)...].dropLast())
                if key == "path" { paxPath = value }
                if key == "linkpath" { paxLink = value }
            }
        }
    }

    /// `name` under `directory`, or nil when it would leave it.
    private func inside(_ name: String) -> String? {
        var parts: [Substring] = []
        for part in name.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
            } else {
                parts.append(part)
            }
        }
        if name.hasPrefix("/") || parts.isEmpty { return parts.isEmpty && !name.hasPrefix("/") ? directory : nil }
        return directory + "/" + parts.joined(separator: "/")
    }

    static func padding(_ size: Int) -> Int { (512 - size % 512) % 512 }

    /// A NUL-terminated (or field-filling) text field.
    static func string<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    static func name(_ bytes: [UInt8]) -> String {
        let base = string(bytes[0..<100])
        // ustar: a prefix for long names.
        let magic = string(bytes[257..<263])
        let prefix = magic.hasPrefix("ustar") ? string(bytes[345..<500]) : ""
        return prefix.isEmpty ? base : prefix + "/" + base
    }

    /// An octal field, or base-256 when its first byte has the high bit (large sizes).
    static func number(_ bytes: ArraySlice<UInt8>) -> Int {
        if let first = bytes.first, first & 0x80 != 0 {
            return bytes.dropFirst().reduce(Int(first & 0x7f)) { $0 << 8 | Int($1) }
        }
        let text = string(bytes).trimmingCharacters(in: .whitespaces)
        return Int(text, radix: 8) ?? 0
    }
}
