import DockerEngine
import Foundation
import TestSupport
import Testing

/// Secrets and configs on every engine (issue #18): the files are in the container before its
/// program starts, with the owner and mode asked for, also on a remote engine (they travel
/// through the engine's archive endpoint, not a bind mount of this machine's files); a changed
/// secret recreates the container and `up` says why without its value.
@Suite(.serialized) struct SecretsConfigsIntegrationTests {
    static let compose = """
        services:
          app:
            image: debian:bookworm-slim
            # The program reads its secret at once: it must be there before the start.
            command: ["sh", "-c", "cat /run/secrets/token > /tmp/seen; trap exit TERM; sleep infinity & wait"]
            secrets:
              - token
              - { source: api_key, target: keys/api, uid: "1000", gid: "1001", mode: 0440 }
            configs:
              - { source: motd, target: /etc/motd }
        secrets:
          token: { file: ./token.txt }
          api_key: { environment: DEVENV_IT_API_KEY }
        configs:
          motd: { content: "hello from devenv" }
        """

    @Test(arguments: TestEngine.all)
    func filesArriveBeforeTheStartWithTheirOwnerAndMode(engine: TestEngine) async throws {
        let files = ["compose.yaml": Self.compose, "token.txt": "first-token\n", ".env": "DEVENV_IT_API_KEY=k-123\n"]
        try await DevenvProject(files: files, engine: engine).run { project in
            let up = try await project.devenv(["up"])
            #expect(up.status == 0, "\(engine.name): \(up.stderr)")
            func inside(_ script: String) async throws -> String {
                let result = try await project.devenv(["exec", "app", "--", "sh", "-c", script])
                #expect(result.status == 0, "\(engine.name) \(script): \(result.stderr)")
                return result.stdout
            }
            #expect(try await inside("cat /tmp/seen") == "first-token\n", "\(engine.name)")
            #expect(try await inside("cat /run/secrets/keys/api") == "k-123", "\(engine.name)")
            #expect(
                try await inside("stat -c '%a %u %g' /run/secrets/token /run/secrets/keys/api /etc/motd")
                    == "444 0 0\n440 1000 1001\n444 0 0\n", "\(engine.name)")
            #expect(try await inside("cat /etc/motd") == "hello from devenv", "\(engine.name)")

            try "second-token\n".write(toFile: project.directory + "/token.txt", atomically: true, encoding: .utf8)
            let again = try await project.devenv(["up"])
            #expect(again.stderr.contains("secrets and configs changed"), "\(engine.name): \(again.stderr)")
            #expect(!again.stderr.contains("second-token") && !again.stderr.contains("k-123"), "\(again.stderr)")
            #expect(try await inside("cat /tmp/seen") == "second-token\n", "\(engine.name)")
            let config = try await project.devenv(["config", "--json"])
            #expect(config.stdout.contains("DEVENV_IT_API_KEY") && !config.stdout.contains("k-123"))
        }
    }
}
