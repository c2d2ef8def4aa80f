import Foundation
import TestSupport
import Testing

@testable import DockerEngine

@Suite struct MultiplexedStreamDemuxerTests {
    static let stream = frame(1, "first line\n") + frame(2, "") + frame(2, "to stderr\n") + frame(1, "ünïcødé ✓\n")

    /// Every way of cutting the stream in two gives the same frames.
    @Test(arguments: 0...stream.count)
    func splitAnywhere(at cut: Int) throws {
        var demuxer = MultiplexedStreamDemuxer()
        var frames = try demuxer.feed(Data(Self.stream.prefix(cut)))
        frames += try demuxer.feed(Data(Self.stream.dropFirst(cut)))
        try demuxer.finish()
        #expect(frames.map(\.text) == ["first line\n", "", "to stderr\n", "ünïcødé ✓\n"])
        #expect(frames.map(\.stream) == [.stdout, .stderr, .stderr, .stdout])
    }

    @Test func byteByByte() throws {
        var demuxer = MultiplexedStreamDemuxer()
        var frames: [OutputFrame] = []
        for byte in Self.stream { frames += try demuxer.feed(Data([byte])) }
        #expect(frames.count == 4)
        #expect(demuxer.pendingByteCount == 0)
    }

    @Test func aBadHeaderIsAnError() {
        var demuxer = MultiplexedStreamDemuxer()
        #expect(throws: DockerEngineError.self) { _ = try demuxer.feed(Data("hello, tty output!".utf8)) }
    }

    @Test func aStreamCutInsideAFrameIsReported() throws {
        var demuxer = MultiplexedStreamDemuxer()
        _ = try demuxer.feed(frame(1, "abcdef").prefix(10))
        #expect(throws: DockerEngineError.self) { try demuxer.finish() }
    }

    @Test func anAbsurdFrameSizeIsRefused() {
        var demuxer = MultiplexedStreamDemuxer(maxFrameSize: 1024)
        #expect(throws: DockerEngineError.self) { _ = try demuxer.feed(Data([1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff])) }
    }
}

@Suite struct LineSplitterTests {
    @Test func splitsAcrossChunksAndDropsBlankLines() {
        var splitter = LineSplitter()
        var lines = splitter.feed(Data("{\"a\":1}\r\n\n{\"b\"".utf8))
        lines += splitter.feed(Data(":2}\n{\"c\":3}".utf8))
        #expect(lines.map { String(decoding: $0, as: UTF8.self) } == ["{\"a\":1}\r", "{\"b\":2}"])
        #expect(splitter.finish().map { String(decoding: $0, as: UTF8.self) } == "{\"c\":3}")
    }
}

@Suite struct EngineEndpointTests {
    @Test func defaultsToTheDockerSocket() throws {
        #expect(try EngineEndpoint(dockerHost: nil) == .unix(path: "/var/run/docker.sock"))
        #expect(try EngineEndpoint(dockerHost: "") == .unix(path: "/var/run/docker.sock"))
    }

    @Test func parsesUnixAndTCP() throws {
        #expect(
            try EngineEndpoint(dockerHost: "unix:///run/podman/podman.sock") == .unix(path: "/run/podman/podman.sock"))
        #expect(try EngineEndpoint(dockerHost: "tcp://127.0.0.1:2375") == .tcp(host: "127.0.0.1", port: 2375))
        #expect(try EngineEndpoint(dockerHost: "tcp://127.0.0.1:2375").description == "tcp://127.0.0.1:2375")
    }

    @Test func parsesSSHAndDefaultsTCPPorts() throws {
        #expect(
            try EngineEndpoint(dockerHost: "ssh://me@build.cern.ch")
                == .ssh(user: "me", host: "build.cern.ch", port: nil))
        #expect(try EngineEndpoint(dockerHost: "ssh://host:2222/") == .ssh(user: nil, host: "host", port: 2222))
        #expect(try EngineEndpoint(dockerHost: "ssh://me@host:2222").description == "ssh://me@host:2222")
        #expect(try EngineEndpoint(dockerHost: "tcp://docker") == .tcp(host: "docker", port: 2375))
        #expect(try EngineEndpoint(dockerHost: "tcp://docker", tls: true) == .tcp(host: "docker", port: 2376))
        #expect(try EngineEndpoint(dockerHost: "tcp://[::1]:2376") == .tcp(host: "::1", port: 2376))
        #expect(try EngineEndpoint(dockerHost: "tcp://[::1]:2376").description == "tcp://[::1]:2376")
        #expect(try EngineEndpoint(dockerHost: "ssh://me@host").remoteHost == "host")
        #expect(try EngineEndpoint(dockerHost: "unix:///x.sock").remoteHost == nil)
    }

    @Test(arguments: [
        "unix://relative.sock", "tcp://host:99999", "tcp://:2375", "docker.sock", "ssh://", "ssh://host/var/run/x",
        "ssh://-oProxyCommand=x", "ssh://@host", "npipe:////./pipe/docker_engine",
    ])
    func rejects(_ value: String) {
        #expect(throws: DockerEngineError.self) { _ = try EngineEndpoint(dockerHost: value) }
    }
}

@Suite struct ClientHelpersTests {
    @Test func versionComparison() {
        #expect(DockerClient.compareVersions("1.41", "1.45") < 0)
        #expect(DockerClient.compareVersions("1.100", "1.45") > 0)
        #expect(DockerClient.negotiate(server: "1.41") == "1.41")
        #expect(DockerClient.negotiate(server: "1.47") == DockerClient.maxAPIVersion)
    }

    @Test func imageReferences() {
        #expect(DockerClient.splitReference("postgres:15") == ("postgres", "15"))
        #expect(DockerClient.splitReference("registry:5000/team/app") == ("registry:5000/team/app", "latest"))
        #expect(DockerClient.splitReference("registry:5000/app:1.2") == ("registry:5000/app", "1.2"))
    }

    @Test func tarArchivesAreReadableByTar() throws {
        var archive = TarArchive()
        try archive.addFile("Dockerfile", Data("FROM scratch\n".utf8))
        try archive.addFile(
            "app/" + String(repeating: "d", count: 120) + "/main.py", Data("print(1)\n".utf8), mode: 0o755)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tar-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("c.tar")
        try archive.data().write(to: file)
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/bin/tar")
        tar.arguments = ["-xf", file.path, "-C", directory.path]
        try tar.run()
        tar.waitUntilExit()
        #expect(tar.terminationStatus == 0)
        let extracted = directory.appendingPathComponent("app/" + String(repeating: "d", count: 120) + "/main.py")
        #expect(try Data(contentsOf: extracted) == Data("print(1)\n".utf8))
    }
}
