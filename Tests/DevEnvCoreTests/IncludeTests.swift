import Foundation
import TestSupport
import Testing

@testable import DevEnvCore
@testable import DevEnvModel
@testable import DevEnvOrchestration

/// Compose's top-level `include:` (issue #18): another application's services, volumes,
/// networks, secrets and configs join the stack with their paths relative to their own
/// directory; a name defined twice or an include cycle is a located error.
struct IncludeTests {
    @Test func anIncludedApplicationJoinsWithItsOwnPaths() throws {
        let project = try ProjectDirectory([
            "compose.yaml": """
            include:
              - db/compose.yaml
              - path: cache/compose.yaml
                env_file: cache/defaults.env
            services:
              web:
                image: debian:bookworm-slim
                depends_on: [db, cache]
            """,
            "db/compose.yaml": """
            services:
              db:
                build: ./image
                env_file: db.env
                volumes: ["pgdata:/var/lib/postgresql/data", "./init:/docker-entrypoint-initdb.d:ro"]
                secrets: [db_password]
            volumes:
              pgdata:
            secrets:
              db_password: { file: ./password.txt }
            """,
            "db/db.env": "POSTGRES_DB=app\n",
            "db/image/Dockerfile": "FROM postgres:15\n",
            "cache/compose.yaml": """
            services:
              cache:
                image: "redis:${REDIS_TAG}"
            """,
            "cache/defaults.env": "REDIS_TAG=7\n",
        ])
        let stack = try project.load(project: "p", environment: [:]).stack
        #expect(stack.services.map(\.name).sorted() == ["cache", "db", "web"])
        let db = try #require(stack.service("db"))
        #expect(db.build?.context == project.path + "/db/image")
        #expect(db.environment["POSTGRES_DB"] == "app")
        #expect(db.volumes.last?.source == project.path + "/db/init")
        #expect(stack.volumes.map(\.name) == ["pgdata"])
        #expect(stack.secrets.first?.file == project.path + "/db/password.txt")
        #expect(stack.service("cache")?.image == "redis:7")
        #expect(
            try project.load(project: "p", environment: ["REDIS_TAG": "8"]).stack.service("cache")?.image == "redis:8")
    }

    @Test func aNameDefinedTwiceOrACycleIsALocatedError() throws {
        let errors = try ProjectDirectory([
            "compose.yaml": """
            include:
              - other.yaml
              - loop.yaml
            services:
              web:
                image: x
            """,
            "other.yaml": "services:\n  web:\n    image: y\n",
            "loop.yaml": "include: [compose.yaml]\nservices:\n  z:\n    image: z\n",
        ]).errors().map(\.description)
        #expect(
            errors.contains { $0.contains("compose.yaml:2:5:") && $0.contains("service 'web' is defined here and in") },
            "\(errors)")
        #expect(errors.contains { $0.contains("comes back to itself") }, "\(errors)")
    }

    @Test func severalPathsAreOneApplication() throws {
        let stack = try ProjectDirectory([
            "compose.yaml": "include:\n  - path: [app/base.yaml, app/override.yaml]\nservices: {}\n",
            "app/base.yaml": "services:\n  api:\n    image: api:1\n    environment: {A: '1'}\n",
            "app/override.yaml": "services:\n  api:\n    environment: {B: '2'}\n",
        ]).load(project: "p").stack
        #expect(stack.service("api")?.image == "api:1")
        #expect(stack.service("api")?.environment == ["A": "1", "B": "2"])
    }

    /// A device or a pipe named where a file belongs would be read forever: refused at once
    /// (include, extends, env_file and secrets read through one bounded reader).
    @Test func devicesAndPipesAreRefusedNotReadForever() throws {
        let errors = try ProjectDirectory([
            "compose.yaml": """
            include: [/dev/zero]
            services:
              a:
                image: x
                env_file: /dev/zero
              b:
                extends: { file: /dev/urandom, service: a }
            """
        ]).errors().map(\.description)
        #expect(
            errors.filter { $0.contains("/dev/zero:1:1: error: this is not a regular file") }.count == 1, "\(errors)")
        #expect(errors.contains { $0.contains("/dev/urandom:1:1: error: this is not a regular file") }, "\(errors)")
        let envFile = try ProjectDirectory([
            "compose.yaml": "services:\n  a:\n    image: x\n    env_file: /dev/zero\n"
        ]).errors().map(\.description)
        #expect(envFile.contains { $0.contains("/dev/zero:1:1: error: this is not a regular file") }, "\(envFile)")
        let project = try ProjectDirectory([
            "compose.yaml": "services:\n  a:\n    image: x\n    secrets: [s]\nsecrets:\n  s: { file: /dev/zero }\n"
        ])
        let stack = try project.load(project: "p").stack
        #expect {
            _ = try Orchestrator(engine: FakeEngine(), stack: stack, store: nil).files(
                of: try #require(stack.service("a")))
        } throws: { error in
            "\(error)".contains("cannot read /dev/zero (this is not a regular file")
        }
    }
}
