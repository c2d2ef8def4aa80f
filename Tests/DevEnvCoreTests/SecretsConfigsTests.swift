import DockerEngine
import Foundation
import TestSupport
import Testing

@testable import DevEnvCore
@testable import DevEnvModel
@testable import DevEnvOrchestration

/// Compose's `secrets:` and `configs:` (issue #18): declared at the top level, named by
/// services, put into the container as files; their values never reach `config` or a label.
struct SecretsConfigsTests {
    static let file = """
        services:
          app:
            image: debian:bookworm-slim
            secrets:
              - token
              - { source: api_key, target: keys/api, uid: "1000", gid: "1001", mode: 0440 }
            configs:
              - nginx
              - { source: motd, target: /etc/motd, mode: 420 }
        secrets:
          token: { file: ./token.txt }
          api_key: { environment: API_KEY }
        configs:
          nginx: { file: ./nginx.conf }
          motd: { content: "hello from ${WHO}" }
        """

    func project() throws -> ProjectDirectory {
        try ProjectDirectory([
            "compose.yaml": Self.file, "token.txt": "s3cret-token\n", "nginx.conf": "events {}\n",
            ".env": "API_KEY=key-from-dotenv\nWHO=devenv\n",
        ])
    }

    @Test func servicesNameFilesWithTheirPlaceOwnerAndMode() throws {
        let stack = try project().load(project: "p").stack
        let app = try #require(stack.service("app"))
        #expect(
            app.secrets == [
                FileReference(source: "token", target: "/run/secrets/token"),
                FileReference(source: "api_key", target: "/run/secrets/keys/api", uid: 1000, gid: 1001, mode: 0o440),
            ])
        #expect(
            app.configs == [
                FileReference(source: "nginx", target: "/nginx"),
                FileReference(source: "motd", target: "/etc/motd", mode: 0o644),
            ])
        #expect(stack.secrets.first { $0.name == "api_key" }?.environmentValue == "key-from-dotenv")
        #expect(stack.configs.first { $0.name == "motd" }?.content == "hello from devenv")
    }

    @Test func configOutputNamesTheVariableNeverItsValue() throws {
        let stack = try project().load(project: "p").stack
        let encoder = JSONEncoder()
        let text = String(decoding: try encoder.encode(stack), as: UTF8.self)
        #expect(text.contains("API_KEY"))
        #expect(!text.contains("key-from-dotenv"))
    }

    @Test func filesReachThePlanAndTheirChangeIsNamed() throws {
        let directory = try project()
        func plan() throws -> ContainerPlan {
            let stack = try directory.load(project: "p").stack
            let orchestrator = Orchestrator(engine: FakeEngine(), stack: stack, store: nil)
            let service = try #require(stack.service("app"))
            return ContainerPlan.make(
                service: service, stack: stack, environment: [:], imageID: "i",
                files: try orchestrator.files(of: service))
        }
        let first = try plan()
        #expect(first.files.map(\.path) == ["/run/secrets/token", "/run/secrets/keys/api", "/nginx", "/etc/motd"])
        #expect(first.files.first?.contents == Data("s3cret-token\n".utf8))
        #expect(!(first.config.Labels ?? [:]).values.contains { $0.contains("s3cret") || $0.contains("key-from") })
        try "rotated\n".write(toFile: directory.path + "/token.txt", atomically: true, encoding: .utf8)
        let second = try plan()
        #expect(second.configHash != first.configHash)
        #expect(second.parts.changes(from: first.parts) == ["secrets and configs changed"])

        // The archive the engine unpacks: paths from /, the owner and mode asked for.
        let archive = try second.filesArchive()
        let header = archive.prefix(512)
        #expect(String(decoding: header.prefix(18), as: UTF8.self) == "run/secrets/token\0")
        let api = try #require(archive.range(of: Data("run/secrets/keys/api".utf8)))
        let apiHeader = archive[api.lowerBound..<(api.lowerBound + 512)]
        func field(_ offset: Int, _ width: Int) -> String {
            String(decoding: apiHeader.dropFirst(offset).prefix(width), as: UTF8.self).trimmingCharacters(
                in: CharacterSet(charactersIn: "\0 "))
        }
        #expect(field(100, 8) == "0000440")
        #expect(field(108, 8) == "0001750")
        #expect(field(116, 8) == "0001751")
    }

    @Test func aMissingFileIsNamedWithItsSecret() throws {
        let directory = try project()
        try FileManager.default.removeItem(atPath: directory.path + "/token.txt")
        let stack = try directory.load(project: "p").stack
        let orchestrator = Orchestrator(engine: FakeEngine(), stack: stack, store: nil)
        #expect {
            _ = try orchestrator.files(of: try #require(stack.service("app")))
        } throws: { error in
            "\(error)".contains("secret token of service app: cannot read \(directory.path)/token.txt (no such file)")
        }
    }

    @Test func badDeclarationsAreLocatedErrors() throws {
        let errors = try ProjectDirectory([
            "compose.yaml": """
            services:
              app:
                image: x
                secrets: [nope, { source: token, mode: rw }]
            secrets:
              token: { environment: UNSET_VARIABLE_FOR_DEVENV_TEST }
              both: { file: ./a, environment: B }
              inline: { content: x }
              shared: { external: true }
            """
        ]).errors().map(\.description)
        for (line, text) in [
            (4, "secret 'nope' is not declared under the top-level 'secrets:'"),
            (4, "mode must be a file mode such as 0440"),
            (6, "names UNSET_VARIABLE_FOR_DEVENV_TEST, which is not set"),
            (7, "needs exactly one of file or environment"), (8, "needs exactly one of file or environment"),
            (9, "secrets.shared.external is not supported by devenv yet"),
        ] {
            #expect(errors.contains { $0.contains("compose.yaml:\(line):") && $0.contains(text) }, "\(text): \(errors)")
        }
    }

    @Test func modesReadAsComposeWritesThem() {
        #expect(StackParser.fileMode("0440") == 0o440)
        #expect(StackParser.fileMode("0o600") == 0o600)
        #expect(StackParser.fileMode("288") == 0o440)
        #expect(StackParser.fileMode("0") == 0)
        #expect(StackParser.fileMode("0999") == nil)
        #expect(StackParser.fileMode("70000") == nil)
    }
}
