import Foundation
import TestSupport
import Testing

@testable import DevEnvCore

/// `env`, `secrets show` and the other commands that only read state, with one state
/// directory across calls (issue #16).
@Suite struct StateStoreCLITests {
    let directory: String
    let state: String

    init() throws {
        directory = NSTemporaryDirectory() + "devenv-state-cli-\(UUID().uuidString.prefix(8))"
        state = directory + "-state"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        try """
        services:
          cache:
            image: redis:7
            x-devenv: { redis: { password: generated } }
          web:
            image: x
            environment: { PGPASSWORD: given-pg-password, DJANGO_SECRET_KEY: given-django-key }
            x-devenv:
              env:
                CELERY_BROKER_URL: "redis://:{{ cache.password }}@cache:6379/0"
                COPIED_FOR_A_TOOL: "{{ cache.password }}"
        """.write(toFile: directory + "/compose.yaml", atomically: true, encoding: .utf8)
    }

    func devenv(_ arguments: [String]) throws -> ProcessResult {
        try runProcess(
            devenvExecutable(), arguments + ["-p", "statecli"],
            environment: ["XDG_STATE_HOME": state, "DOCKER_HOST": "unix:///nonexistent.sock", "PWD": directory],
            currentDirectory: directory)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
        try? FileManager.default.removeItem(atPath: state)
    }

    /// One rule masks every secret, by name and by value: REDISCLI_AUTH, PGPASSWORD, a URL's
    /// password, and a generated password copied into a variable with an ordinary name.
    @Test func envMasksEverySecretByNameAndByValue() throws {
        defer { remove() }
        for service in ["cache", "web"] {
            #expect(try devenv(["env", service]).status == 0)
        }
        let shown = try devenv(["secrets", "show"])
        let password = try #require(
            shown.stdout.split(separator: "\n").first { $0.hasPrefix("cache.password=") }?.split(separator: "=").last)
        for service in ["cache", "web"] {
            let masked = try devenv(["env", service])
            #expect(masked.status == 0, "\(masked.stderr)")
            for secret in [String(password), "given-pg-password", "given-django-key"] {
                #expect(!masked.stdout.contains(secret), "\(service) shows \(secret): \(masked.stdout)")
            }
        }
        let web = try devenv(["env", "web"]).stdout
        #expect(web.contains("CELERY_BROKER_URL='redis://:***@cache:6379/0'"), "\(web)")
        #expect(web.contains("COPIED_FOR_A_TOOL='***'") || web.contains("COPIED_FOR_A_TOOL=***"), "\(web)")
        #expect(try devenv(["env", "cache"]).stdout.contains("REDISCLI_AUTH='***'"))
        #expect(try devenv(["env", "cache", "--show-secrets"]).stdout.contains("REDISCLI_AUTH=\(password)"))
    }

    /// On a full filesystem, what only reads state works, and what must write fails with exit
    /// 1 naming the file and the next step (a tmpfs filled up; needs root to mount it).
    @Test(.enabled(if: getuid() == 0, "mounting a tmpfs needs root"))
    func aFullStateStoreStillServesReadsAndNamesItselfOnWrites() throws {
        defer { remove() }
        #expect(
            try runProcess(URL(fileURLWithPath: "/bin/mount"), ["-t", "tmpfs", "-o", "size=256k", "tmpfs", state])
                .status == 0)
        defer { _ = try? runProcess(URL(fileURLWithPath: "/bin/umount"), ["-l", state]) }
        #expect(try devenv(["env", "cache"]).status == 0)
        let before = try devenv(["secrets", "show"]).stdout
        #expect(before.contains("cache.password="))
        // Fill it.
        _ = FileManager.default.createFile(atPath: state + "/filler", contents: nil)
        let filler = try FileHandle(forWritingTo: URL(fileURLWithPath: state + "/filler"))
        let block = Data(count: 4096)
        while (try? filler.write(contentsOf: block)) != nil {}
        try? filler.close()

        let env = try devenv(["env", "cache", "--show-secrets"])
        #expect(env.status == 0, "\(env.stderr)")
        #expect(env.stdout.contains("REDIS_PASSWORD="))
        #expect(try devenv(["secrets", "show"]).stdout == before)

        // A new generated value has nowhere to go: exit 1, the file, the next step.
        try
            (try String(contentsOfFile: directory + "/compose.yaml", encoding: .utf8)
            + "\n  other:\n    image: redis:7\n    x-devenv: { redis: { password: generated } }\n")
            .write(toFile: directory + "/compose.yaml", atomically: true, encoding: .utf8)
        let write = try devenv(["env", "other"])
        #expect(write.status == 1, "\(write.stderr)")
        #expect(write.stderr.contains("state store \(state)/devenv/state.db"), "\(write.stderr)")
        #expect(write.stderr.contains("free space") || write.stderr.contains("make room"), "\(write.stderr)")
    }
}
