import Foundation
import TestSupport
import Testing

/// `devenv config` on 34 compose files from docker/awesome-compose (The Unlicense; see
/// fixtures/compose-corpus/README.md): devenv either reads a file, and then docker-compose 1.29
/// reads devenv's canonical form back to the same services, or refuses it with file:line:col.
/// One sample at a time: each runs devenv twice and docker-compose (Python) twice, and 34 of
/// them at once starved the engine the integration tests share (a network create took 60 s).
@Suite(.serialized) struct ComposeCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("fixtures/compose-corpus").path

    /// The samples devenv refuses, and why. Three of them docker-compose refuses too.
    static let refused: [String: String] = [
        "pihole-cloudflared-DoH": "networks.dns-net.ipam is not supported",
        "wasmedge-kafka-mysql": "services.etl.runtime is not supported",
        "plex": "':/media/' in services.plex.volumes",
        "prometheus-grafana": "services.prometheus.volumes mounts two things at /prometheus",
        "react-express-mongodb": "service 'frontend' depends on 'backend', which is not a service",
    ]

    func devenv(_ arguments: [String], in directory: String) throws -> ProcessResult {
        try runProcess(
            devenvExecutable(), arguments,
            environment: [
                "XDG_STATE_HOME": NSTemporaryDirectory() + "devenv-corpus-state",
                "DOCKER_HOST": "unix:///nonexistent.sock",
                "PWD": directory, "COMPOSE_FILE": nil, "COMPOSE_PROJECT_NAME": nil, "COMPOSE_PROFILES": nil,
            ], currentDirectory: directory)
    }

    static func samples() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: corpus)
            .filter { FileManager.default.fileExists(atPath: "\(corpus)/\($0)/compose.yaml") }.sorted()
    }

    @Test func theCorpusHasThirtyFilesAndTheirLicence() throws {
        #expect(try Self.samples().count >= 30)
        let readme = try String(contentsOfFile: Self.corpus + "/README.md", encoding: .utf8)
        #expect(readme.contains("github.com/docker/awesome-compose"))
        #expect(FileManager.default.fileExists(atPath: Self.corpus + "/LICENSE"))
    }

    @Test(arguments: try samples())
    func readsBackTheSameOrRefusesWithALocation(sample: String) throws {
        #expect(
            FileManager.default.isExecutableFile(atPath: "/usr/bin/docker-compose"),
            "docker-compose 1.29 is missing: `make packages` installs it (apt-get install docker-compose)")
        // A copy: docker-compose and devenv resolve paths against the file's directory.
        let directory = NSTemporaryDirectory() + "devenv-corpus-\(sample)-\(UUID().uuidString.prefix(6))"
        try FileManager.default.copyItem(atPath: "\(Self.corpus)/\(sample)", toPath: directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let config = try devenv(["config"], in: directory)
        if let reason = Self.refused[sample] {
            #expect(config.status == 2, "\(sample): \(config.stdout.prefix(300))")
            #expect(config.stderr.contains(reason), "\(sample): \(config.stderr)")
            for line in config.stderr.split(separator: "\n") where line.contains("error:") {
                #expect(line.contains(#/compose\.yaml:\d+:\d+: error: /#), "\(sample): \(line)")
            }
            return
        }
        try #require(config.status == 0, "\(sample): \(config.stderr)")
        #expect(!config.stdout.contains("x-devenv-"), "\(sample): devenv's bookkeeping in the output")
        let canonical = directory + "/canonical.yaml"
        try config.stdout.write(toFile: canonical, atomically: true, encoding: .utf8)

        // devenv reads its own output back to the same output.
        let again = try devenv(["config", "-f", canonical, "-p", config.stdout.projectName], in: directory)
        #expect(again.status == 0, "\(sample): \(again.stderr)")
        #expect(again.stdout == config.stdout, "\(sample): not a fixed point")

        // docker-compose 1.29 reads both to the same services.
        let check = try runProcess(
            URL(fileURLWithPath: "/usr/bin/python3"),
            [Self.corpus + "/readback.py", directory + "/compose.yaml", canonical])
        #expect(check.status == 0, "\(sample): \(check.stderr)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: Any], "\(check.stdout)")
        #expect(report["original"] as? String == "ok", "\(sample): docker-compose refuses the sample: \(report)")
        #expect(report["canonical"] as? String == "ok", "\(sample): docker-compose refuses devenv's output: \(report)")
        #expect((report["differences"] as? [Any])?.isEmpty == true, "\(sample): \(check.stdout)")
    }
}

extension String {
    /// The `name:` of a canonical Compose document.
    fileprivate var projectName: String {
        split(separator: "\n").first { $0.hasPrefix("name: ") }.map { String($0.dropFirst(6)) } ?? "corpus"
    }
}
