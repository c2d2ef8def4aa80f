import DockerEngine
import Foundation
import TestSupport
import Testing

/// Build contexts sent while they are read: the same archive whatever the reader's buffer,
/// exactly `length` bytes, readable by tar, and an error — not a corrupt archive — when the
/// directory changes under it.
@Suite struct TarStreamTests {
    /// A context with what build contexts hold: nested directories, an empty file, one bigger
    /// than a read, an executable, a path past ustar's 100 bytes, a symlink, an excluded file.
    func context() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ctx-\(UUID().uuidString.prefix(8))")
        let long = "app/" + String(repeating: "d", count: 120) + "/main.py"
        let files: [String: Data] = [
            "Dockerfile": Data("FROM scratch\nCOPY . /\n".utf8), "empty": Data(),
            "big.bin": Data((0..<(3 << 20) + 77).map { UInt8(truncatingIfNeeded: $0 &* 131) }),
            "bin/run.sh": Data("#!/bin/sh\necho hi\n".utf8), long: Data("print(1)\n".utf8),
            "node_modules/skip.js": Data("x".utf8),
        ]
        for (path, data) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: root.path + "/bin/run.sh")
        try FileManager.default.createSymbolicLink(atPath: root.path + "/link", withDestinationPath: "bin/run.sh")
        return root
    }

    func drain(_ stream: TarStream, buffer size: Int) throws -> Data {
        var out = Data()
        var buffer = [UInt8](repeating: 0, count: size)
        while true {
            let count = try buffer.withUnsafeMutableBytes { try stream.read(into: $0) }
            if count == 0 { break }
            out.append(contentsOf: buffer[..<count])
        }
        return out
    }

    @Test func theSameArchiveWhateverTheBufferAndTarReadsIt() throws {
        let root = try context()
        defer { try? FileManager.default.removeItem(at: root) }
        let exclude: (String) -> Bool = { $0.hasPrefix("node_modules") }
        var archives: [Data] = []
        for size in [511, 512, 4096, (1 << 20) + 3] {
            let stream = try TarStream(directory: root, exclude: exclude)
            let data = try drain(stream, buffer: size)
            #expect(data.count == stream.length, "the Content-Length is what is sent")
            #expect(data.count % 512 == 0)
            archives.append(data)
        }
        // A byte at a time (the start: 3 MiB so would be slow) gives the same bytes.
        let single = try TarStream(directory: root, exclude: exclude)
        var byte = [UInt8](repeating: 0, count: 1)
        var first = Data()
        for _ in 0..<2048 {
            #expect(try byte.withUnsafeMutableBytes { try single.read(into: $0) } == 1)
            first.append(byte[0])
        }
        #expect(first == archives[0].prefix(2048))
        #expect(Set(archives).count == 1, "the buffer size does not change the archive")

        let out = root.deletingLastPathComponent().appendingPathComponent("out-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: out) }
        try archives[0].write(to: out.appendingPathComponent("c.tar"))
        let tar = try runProcess(
            URL(fileURLWithPath: "/bin/tar"), ["-xf", out.path + "/c.tar", "-C", out.path + "/", "--no-same-owner"])
        #expect(tar.status == 0, "\(tar.stderr)")
        for path in [
            "Dockerfile", "empty", "big.bin", "bin/run.sh", "app/" + String(repeating: "d", count: 120) + "/main.py",
        ] {
            #expect(
                FileManager.default.contents(atPath: out.path + "/" + path)
                    == FileManager.default.contents(atPath: root.path + "/" + path), "\(path)")
        }
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: out.path + "/link") == "bin/run.sh")
        let mode = try FileManager.default.attributesOfItem(atPath: out.path + "/bin/run.sh")[.posixPermissions]
        #expect((mode as? NSNumber)?.intValue == 0o755)
        #expect(!FileManager.default.fileExists(atPath: out.path + "/node_modules"))
    }

    @Test func aFileThatShrinksWhileSentIsAnError() throws {
        let root = try context()
        defer { try? FileManager.default.removeItem(at: root) }
        let stream = try TarStream(directory: root)
        try Data("short".utf8).write(to: root.appendingPathComponent("big.bin"))
        #expect {
            _ = try drain(stream, buffer: 65536)
        } throws: { error in
            "\(error)".contains("big.bin became shorter while it was being sent")
        }
    }

    @Test func aFileSwappedForALinkIsNotFollowed() throws {
        let root = try context()
        defer { try? FileManager.default.removeItem(at: root) }
        let stream = try TarStream(directory: root)
        try FileManager.default.removeItem(at: root.appendingPathComponent("Dockerfile"))
        try FileManager.default.createSymbolicLink(
            atPath: root.path + "/Dockerfile", withDestinationPath: "/etc/passwd")
        #expect {
            _ = try drain(stream, buffer: 65536)
        } throws: { error in
            "\(error)".contains("Dockerfile cannot be read: a symbolic link")
        }
    }
}
