import Foundation
import TestSupport
import Testing

@testable import DevEnvCore
@testable import DevEnvRuntime

/// What a hostile compose file can make `up` do: a Redis password configures nothing but
/// itself, a failing service's log tail shows no secret, risky mounts are named once.
@Suite struct HostileInputIntegrationTests {
    /// A given Redis password with spaces, quotes, backslashes, `$`, non-ASCII and Redis's own
    /// keywords reaches Redis as exactly one password.
    @Test func aRedisPasswordIsOnePasswordWhateverItHolds() async throws {
        let password = #"pa ss "word" \x41 \ $HOME 'q' ümlaut requirepass "" rename-command"#
        // YAML single quotes (a quote doubled), compose's `$$` for one `$`.
        let yaml =
            "'" + password.replacingOccurrences(of: "'", with: "''").replacingOccurrences(of: "$", with: "$$")
            + "'"
        let compose = """
            services:
              cache:
                image: redis:7
                ports: ["127.0.0.1::6379"]
                x-devenv: { redis: { password: \(yaml) } }
            """
        try await DevenvProject(files: ["compose.yaml": compose]).run { project in
            let up = try await project.devenv(["up"])
            #expect(up.status == 0, "\(up.stderr)")
            #expect(!up.stdout.contains(password) && !up.stderr.contains(password))
            let env = try await project.devenv(["env", "--format", "json", "--show-secrets"])
            let variables = try JSONSerialization.jsonObject(with: Data(env.stdout.utf8)) as? [String: String]
            let text = try #require(variables?["REDIS_URL"])
            let url = try #require(URLComponents(string: text))
            let port = try #require(url.port)
            #expect(url.password == password, "the URL carries the password as given")
            func command(_ words: [String]) -> String {
                "*\(words.count)\r\n" + words.map { "$\($0.utf8.count)\r\n\($0)\r\n" }.joined()
            }
            let denied = ReadinessProbe.respExchange(host: "127.0.0.1", port: port, request: "PING\r\n", timeout: 2)
            #expect(denied?.hasPrefix("-NOAUTH") == true, "\(denied ?? "no answer")")
            let wrong = ReadinessProbe.respExchange(
                host: "127.0.0.1", port: port, request: command(["AUTH", "pa"]), timeout: 2)
            #expect(wrong?.hasPrefix("-WRONGPASS") == true, "\(wrong ?? "no answer")")
            let accepted = ReadinessProbe.respExchange(
                host: "127.0.0.1", port: port, request: command(["AUTH", password]) + command(["PING"]), timeout: 2)
            #expect(accepted?.hasPrefix("+OK\r\n+PONG") == true, "\(accepted ?? "no answer")")
        }
    }

    /// A service that prints a secret and fails: `up`'s log tail shows it masked.
    @Test func aFailingServicesLogTailMasksItsSecrets() async throws {
        let token = "tok-\(UUID().uuidString)"
        let compose = """
            services:
              job:
                image: debian:bookworm-slim
                environment: { API_TOKEN: \(token) }
                command: ["sh", "-c", "echo \\"the token is $$API_TOKEN\\"; exit 3"]
                healthcheck: { test: ["CMD", "true"], interval: 1s, retries: 3 }
            """
        try await DevenvProject(files: ["compose.yaml": compose]).run { project in
            let up = try await project.devenv(["up"])
            #expect(up.status != 0)
            #expect(up.stderr.contains("the token is ***"), "\(up.stderr)")
            #expect(!up.stdout.contains(token) && !up.stderr.contains(token))
        }
    }

    /// The README's promise: a mount of `/etc` (or `/`, a home, outside the project) is named,
    /// once per `up`.
    @Test func aRiskyBindMountWarnsOncePerUp() async throws {
        let compose = """
            services:
              app:
                image: debian:bookworm-slim
                command: ["sleep", "infinity"]
                init: true
                volumes: ["/etc:/host-etc:ro"]
            """
        try await DevenvProject(files: ["compose.yaml": compose]).run { project in
            let up = try await project.devenv(["up"])
            #expect(up.status == 0, "\(up.stderr)")
            let warnings = up.stderr.components(separatedBy: "bind-mounts /etc (read-only): a system directory")
            #expect(warnings.count == 2, "one warning, got: \(up.stderr)")
        }
    }
}
