import DockerEngine
import Foundation
import TestSupport
import Testing

/// `devenv cp`'s side of the engine's archives: what `TarStream(item:named:)` sends and what GNU
/// tar writes (pax and GNU long names) unpack to the same tree, fed in any chunk size; a name
/// that leaves the destination is refused before anything of it is written.
@Suite struct TarExtractorTests {
    func tree() throws -> String {
        let root = NSTemporaryDirectory() + "tarx-\(UUID().uuidString.prefix(8))/src"
        let long = String(repeating: "n", count: 150)
        for (path, text) in ["a.txt": "one\n", "sub/b.txt": "two\n", "\(long)/\(long).txt": "deep\n", "empty": ""] {
            let full = root + "/" + path
            try FileManager.default.createDirectory(
                atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }
        try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: "a.txt")
        return root
    }

    func drain(_ stream: TarStream) throws -> Data {
        var out = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = try buffer.withUnsafeMutableBytes { try stream.read(into: $0) }
            if count == 0 { break }
            out.append(contentsOf: buffer[..<count])
        }
        return out
    }

    func listing(_ root: String) throws -> [String: String] {
        var found: [String: String] = [:]
        for path in FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? [] {
            let full = root + "/" + path
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: full) {
                found[path] = "-> " + target
            } else if let text = try? String(contentsOfFile: full, encoding: .utf8) {
                found[path] = text
            } else {
                found[path] = "dir"
            }
        }
        return found
    }

    @Test(arguments: [1, 511, 4096])
    func whatTarStreamSendsUnpacksToTheSameTreeRenamed(chunk: Int) throws {
        let source = try tree()
        let archive = try drain(TarStream(item: URL(fileURLWithPath: source), named: "copy"))
        let out = NSTemporaryDirectory() + "tarx-out-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        var extractor = TarExtractor(into: out, renameTop: "renamed")
        var offset = 0
        while offset < archive.count {
            try extractor.feed(archive.subdata(in: offset..<min(archive.count, offset + chunk)))
            offset += chunk
        }
        try extractor.finish()
        #expect(try listing(out + "/renamed") == listing(source))
        #expect(extractor.skipped.isEmpty)
    }

    @Test func gnuTarsLongNamesAndPaxHeadersAreRead() throws {
        let source = try tree()
        let parent = (source as NSString).deletingLastPathComponent
        for format in ["gnu", "pax"] {
            let archive = parent + "/\(format).tar"
            let tar = try runProcess(
                URL(fileURLWithPath: "/usr/bin/tar"), ["--format=\(format)", "-cf", archive, "-C", parent, "src"])
            #expect(tar.status == 0, "\(tar.stderr)")
            let out = parent + "/out-\(format)"
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            var extractor = TarExtractor(into: out)
            try extractor.feed(try Data(contentsOf: URL(fileURLWithPath: archive)))
            try extractor.finish()
            #expect(try listing(out + "/src") == listing(source), "\(format)")
        }
    }

    @Test func aNameOutsideTheDestinationIsRefusedAndNothingOfItWritten() throws {
        let out = NSTemporaryDirectory() + "tarx-evil-\(UUID().uuidString.prefix(8))/inside"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        for name in ["../escaped.txt", "/etc/escaped.txt", "a/../../escaped.txt"] {
            var extractor = TarExtractor(into: out)
            #expect(throws: DockerEngineError.self, "\(name)") { try extractor.feed(Self.hostileArchive(name)) }
        }
        let parent = (out as NSString).deletingLastPathComponent
        #expect(!FileManager.default.fileExists(atPath: parent + "/escaped.txt"))
        #expect((try FileManager.default.contentsOfDirectory(atPath: out)).isEmpty)
    }

    /// One file entry named `name` as a hostile engine could send it (devenv's own writer
    /// refuses such names), then the trailer.
    static func hostileArchive(_ name: String) -> Data {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int) {
            for (index, byte) in text.utf8.enumerated() { header[offset + index] = byte }
        }
        put(name, at: 0)
        put("0000644", at: 100)
        put("0000000", at: 108)
        put("0000000", at: 116)
        put("00000000001", at: 124)
        put("00000000000", at: 136)
        put("        ", at: 148)
        put("0", at: 156)
        put("ustar", at: 257)
        put("00", at: 263)
        let sum = header.reduce(0) { $0 + Int($1) }
        put(String(String(sum, radix: 8).leftPadded(6)) + "\0 ", at: 148)
        return Data(header) + Data("x".utf8) + Data(count: 511) + Data(count: 1024)
    }

    @Test func anArchiveCutShortIsAnError() throws {
        var archive = TarArchive()
        try archive.addFile("big", Data(count: 2000))
        var extractor = TarExtractor(into: NSTemporaryDirectory() + "tarx-cut-\(UUID().uuidString.prefix(8))")
        try extractor.feed(archive.data().prefix(1000))
        #expect(throws: DockerEngineError.self) { try extractor.finish() }
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
