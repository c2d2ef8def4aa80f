import Foundation
import StateStore
import Testing

@testable import DevEnvCore
@testable import DevEnvProvisioning

/// Secrets of managed servers are kept per server, apart from the local stack's; migrations
/// are pointed at the server.
@Suite struct TargetScopeTests {
    @Test func eachServerAndTheLocalStackGetTheirOwnPasswords() throws {
        let directory = NSTemporaryDirectory() + "devenv-scope-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try StateStore(path: directory + "/state.db")
        let project = try ProjectDirectory([
            "compose.yaml": """
            name: dials
            services:
              db:
                image: postgres:15
                x-devenv: { postgres: { roles: [{ name: dials }] } }
            """
        ])
        let stack = try project.load().stack
        let reference = Template.Reference(service: "db", path: ["roles", "dials", "password"])
        let first = try PostgresTarget(url: "postgresql://dba@dbod-dials.cern.ch:6600/postgres")
        let second = try PostgresTarget(url: "postgresql://dba@dbod-other.cern.ch:6600/postgres")
        #expect(first.secretScope == "target:dbod-dials.cern.ch:6600/postgres")
        let local = try TemplateResolver(stack: stack, store: store).resolve(reference)
        let one = try TemplateResolver(stack: stack, store: store, scope: first.secretScope).resolve(reference)
        let two = try TemplateResolver(stack: stack, store: store, scope: second.secretScope).resolve(reference)
        #expect(Set([local, one, two]).count == 3)
        // Known values never generate one.
        let third = try PostgresTarget(url: "postgresql://dba@dbod-third.cern.ch:6600/app")
        #expect(try TemplateResolver(stack: stack, store: store, scope: third.secretScope).knownValue(reference) == nil)
        #expect(try store.secrets(project: third.secretScope).isEmpty)
        // What `down -v` forgets is the project's scope only.
        try store.deleteProject(named: "dials")
        #expect(try TemplateResolver(stack: stack, store: store, scope: first.secretScope).knownValue(reference) == one)
        #expect(third.adminDatabase == "app" && first.adminDatabase == "postgres")
    }

    @Test func migrationsArePointedAtTheServer() {
        let environment = [
            "DJANGO_DATABASE_HOST": "db", "DJANGO_DATABASE_PORT": "5432", "DJANGO_DATABASE_NAME": "dials",
            "DATABASE_URL": "postgresql://dials:pw@db:5432/dials", "OTHER_URL": "postgresql://x@db/x",
            "REDIS_HOST": "redis", "BACKEND_PORT": "5432",
        ]
        let pointed = TargetMigration.pointed(
            environment, at: "db", host: "dbod-dials.cern.ch", port: "6600", sslmode: "require")
        #expect(pointed["DJANGO_DATABASE_HOST"] == "dbod-dials.cern.ch")
        #expect(pointed["DJANGO_DATABASE_PORT"] == "6600")
        #expect(pointed["DATABASE_URL"] == "postgresql://dials:pw@dbod-dials.cern.ch:6600/dials")
        #expect(pointed["OTHER_URL"] == "postgresql://x@dbod-dials.cern.ch:6600/x")
        #expect(pointed["REDIS_HOST"] == "redis")
        #expect(pointed["PGSSLMODE"] == "require")
    }

    @Test func scramVerifiersAreCheckedWithoutLoggingIn() {
        // Made by PostgreSQL 15 (pg_authid.rolpassword) for the password "production-password".
        let verifier = ScramVerifier(
            "SCRAM-SHA-256$4096:TXLX42E67ZdDNUCHSq5cpg==$T9VNWZ3j6oDPr9LmrNxDTbhndP6qOgKxGlF88OzhzJI=:PzNGFEF4cNRqLLDrlCJVbRtbmRAGWLdn9EUFiJEaMPU="
        )
        #expect(verifier?.matches("production-password") == true)
        #expect(verifier?.matches("production-passwore") == false)
        #expect(ScramVerifier("md5abcdef") == nil)
        #expect(verifier?.matches("ñandú") == nil, "non-ASCII passwords cannot be checked here")
    }
}
