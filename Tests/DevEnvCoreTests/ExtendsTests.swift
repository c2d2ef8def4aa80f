import Foundation
import Testing

@testable import DevEnvCore
@testable import DevEnvModel

/// Compose's `extends:` (issue #18): same file and other files, chains, the override rules of
/// a second `-f` file, and the base file's relative paths kept relative to it.
struct ExtendsTests {
    @Test func aServiceStartsFromAnotherInTheSameFile() throws {
        let stack = try ProjectDirectory([
            "compose.yaml": """
            services:
              base:
                image: debian:bookworm-slim
                environment: { A: "1", B: "base" }
                ports: ["8000"]
                command: ["sleep", "1"]
              worker:
                extends: base
                environment: [B=worker, C=3]
                ports: ["9000"]
                command: ["celery", "worker"]
              beat:
                extends: { service: worker }
                command: ["celery", "beat"]
            """
        ]).load(project: "p").stack
        let worker = try #require(stack.service("worker"))
        #expect(worker.image == "debian:bookworm-slim")
        #expect(worker.environment == ["A": "1", "B": "worker", "C": "3"])
        #expect(worker.ports.map(\.target) == [8000, 9000])
        #expect(worker.command == ["celery", "worker"])
        let beat = try #require(stack.service("beat"))
        #expect(beat.environment == ["A": "1", "B": "worker", "C": "3"])
        #expect(beat.command == ["celery", "beat"])
    }

    @Test func aBaseInAnotherFileKeepsItsPathsRelativeToIt() throws {
        let project = try ProjectDirectory([
            "compose.yaml": """
            services:
              web:
                extends: { file: common/services.yaml, service: django }
                environment: { MODE: dev }
            volumes:
              cache:
            """,
            "common/services.yaml": """
            services:
              django:
                build: ./app
                env_file: [django.env]
                volumes: ["./static:/static:ro", "cache:/cache"]
                environment: { MODE: prod, WORKERS: "2" }
            """,
            "common/django.env": "SECRET_KEY=x\n",
            "common/app/Dockerfile": "FROM debian:bookworm-slim\n",
        ])
        let loaded = try project.load(project: "p", environment: [:])
        let web = try #require(loaded.stack.service("web"))
        #expect(web.build?.context == project.path + "/common/app")
        #expect(web.environment == ["MODE": "dev", "WORKERS": "2", "SECRET_KEY": "x"])
        #expect(web.volumes.first?.source == project.path + "/common/static")
    }

    @Test func brokenChainsAreLocatedErrors() throws {
        let errors = try ProjectDirectory([
            "compose.yaml": """
            services:
              a:
                extends: b
              b:
                extends: { service: a }
              c:
                image: x
                extends: { service: nope }
              d:
                extends: { file: missing.yaml, service: x }
            """
        ]).errors().map(\.description)
        #expect(
            errors.contains { $0.contains("compose.yaml:3:") && $0.contains("extends itself through a cycle") },
            "\(errors)")
        #expect(
            errors.contains {
                $0.contains("compose.yaml:8:") && $0.contains("names service 'nope', which the stack does not define")
            },
            "\(errors)")
        #expect(errors.contains { $0.contains("missing.yaml") }, "\(errors)")
    }
}
