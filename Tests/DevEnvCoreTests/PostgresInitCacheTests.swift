import DockerEngine
import Foundation
import Testing

@testable import DevEnvCore
@testable import DevEnvModel
@testable import DevEnvOrchestration

/// Which PostgreSQL containers may start from a cached initialized cluster, and what the cache
/// image is made of.
struct PostgresInitCacheTests {
    /// An image like postgres:15, as the engine describes it.
    static let base = try! JSONDecoder().decode(
        ImageInspect.self,
        from: Data(
            """
            {"Id": "sha256:base", "Config": {"Env": ["PATH=/usr/bin", "PGDATA=/var/lib/postgresql/data", "LANG=en_US.utf8"],
             "Entrypoint": ["docker-entrypoint.sh"], "Cmd": ["postgres"], "Volumes": {"/var/lib/postgresql/data": {}}}}
            """.utf8))

    func service(_ yaml: String) throws -> Service {
        let file = "services:\n  db:\n" + yaml + (yaml.contains("pgdata:") ? "volumes:\n  pgdata: {}\n" : "")
        let stack = try ProjectDirectory(["compose.yaml": file]).load(project: "p").stack
        return try #require(stack.service("db"))
    }

    func request(
        _ yaml: String, environment: [String: String] = ["POSTGRES_PASSWORD": "one"]
    )
        throws -> PostgresInitCache.Request?
    {
        PostgresInitCache.request(for: try service(yaml), project: "p", environment: environment, base: Self.base)
    }

    @Test func thePasswordIsNotPartOfTheKeyButTheClustersShapeIs() throws {
        let plain = "    image: postgres:15\n"
        let one = try #require(try request(plain))
        let two = try #require(try request(plain, environment: ["POSTGRES_PASSWORD": "two"]))
        #expect(one.key == two.key, "a generated password per project still shares the cache")
        #expect(one.environment["POSTGRES_PASSWORD"] == nil)
        let otherDatabase = try #require(
            try request(plain, environment: ["POSTGRES_PASSWORD": "one", "POSTGRES_DB": "app"]))
        #expect(otherDatabase.key != one.key)
        let otherLocale = try #require(try request(plain, environment: ["POSTGRES_PASSWORD": "one", "LANG": "C"]))
        #expect(otherLocale.key != one.key)
        let unrelated = try #require(try request(plain, environment: ["POSTGRES_PASSWORD": "one", "APP_MODE": "x"]))
        #expect(unrelated.key == one.key, "variables the first start does not read do not split the cache")
        #expect(one.tag.hasPrefix("devenv-pginit:") && one.base == "sha256:base" && one.reference == "postgres:15")
        #expect(one.entrypoint == ["docker-entrypoint.sh"] && one.command == ["postgres"])
    }

    @Test func onlyContainersWhoseFirstStartIsDisposableAndPlainUseIt() throws {
        #expect(try request("    image: postgres:15\n    command: [postgres, -c, fsync=off]\n") != nil)
        // A named volume gets the cluster copied in on its first start, and keeps the data
        // directory where the file puts it (also a subdirectory); a bind mount does not use it.
        let named = try #require(
            try request("    image: postgres:15\n    volumes: [\"pgdata:/var/lib/postgresql/data\"]\n"))
        #expect(named.volumeDataDirectory == "/var/lib/postgresql/data")
        let plain = try #require(try request("    image: postgres:15\n"))
        #expect(named.key == plain.key && plain.volumeDataDirectory == nil, "one image serves both")
        let below = try #require(
            try request(
                "    image: postgres:15\n    volumes: [\"pgdata:/var/lib/postgresql\"]\n",
                environment: ["POSTGRES_PASSWORD": "one", "PGDATA": "/var/lib/postgresql/data/pgdata"]))
        #expect(below.volumeDataDirectory == "/var/lib/postgresql/data/pgdata")
        #expect(try request("    image: postgres:15\n    volumes: [\"pgdata:/var/lib/postgresql/data:ro\"]\n") == nil)
        #expect(try request("    image: postgres:15\n    volumes: [\"./data:/var/lib/postgresql\"]\n") == nil)
        #expect(
            try request("    image: postgres:15\n    volumes: [\"./init:/docker-entrypoint-initdb.d:ro\"]\n") == nil)
        #expect(
            try request("    image: postgres:15\n    volumes: [\"./x.sql:/docker-entrypoint-initdb.d/x.sql\"]\n") == nil
        )
        #expect(try request("    image: postgres:15\n    volumes: [\"./conf:/etc/postgresql\"]\n") != nil)
        #expect(try request("    image: postgres:15\n    entrypoint: [sh]\n") == nil)
        #expect(try request("    image: postgres:15\n    command: [bash]\n") == nil)
        #expect(try request("    image: postgres:15\n    user: \"999\"\n") == nil)
        #expect(try request("    image: redis:7\n") == nil)
        #expect(
            try request(
                "    image: postgres:15\n",
                environment: ["POSTGRES_PASSWORD_FILE": "/run/secrets/pw"]) == nil)
        #expect(
            try request(
                "    image: postgres:15\n",
                environment: ["POSTGRES_PASSWORD": "one", "PGDATA_SECRET_TOKEN": "x"]) == nil)
        #expect(try request("    image: postgres:15\n", environment: ["POSTGRES_PASSWORD": "two\nlines"]) == nil)
        #expect(
            try request(
                "    image: postgres:15\n    volumes: [\"./wal:/srv/wal\"]\n",
                environment: ["POSTGRES_PASSWORD": "one", "POSTGRES_INITDB_WALDIR": "/srv/wal/15"]) == nil)
        // A data directory moved out of the named volume's way is disposable again.
        let moved = try request(
            "    image: postgres:15\n    volumes: [\"pgdata:/var/lib/postgresql/data\"]\n",
            environment: ["POSTGRES_PASSWORD": "one", "PGDATA": "/srv/pg"])
        #expect(moved != nil && moved?.volumeDataDirectory == nil)
    }

    @Test func theImageNeverHoldsThePasswordAndWrapsTheEntrypoint() throws {
        let request = try #require(
            try request(
                "    image: postgres:15\n", environment: ["POSTGRES_PASSWORD": "sekrit", "POSTGRES_USER": "a\"b"]))
        let dockerfile = PostgresInitCache.dockerfile(request, placeholder: "placeholder-1")
        #expect(!dockerfile.contains("sekrit"))
        #expect(dockerfile.hasPrefix("FROM sha256:base\n"))
        #expect(dockerfile.contains(#""POSTGRES_PASSWORD=placeholder-1""#))
        #expect(dockerfile.contains(#""POSTGRES_USER=a\"b""#), "values are JSON strings in the exec form")
        #expect(dockerfile.contains("ENV PGDATA=/var/lib/postgresql/devenv-data"))
        #expect(dockerfile.contains(#"ENTRYPOINT ["sh","\/usr\/local\/bin\/devenv-pginit.sh","docker-entrypoint.sh"]"#))
        #expect(dockerfile.contains(#"CMD ["postgres"]"#))
    }

    @Test func aPlanUsingTheCacheKeepsItsHash() throws {
        let service = try service("    image: postgres:15\n    environment: { PGDATA: /x }\n")
        let stack = try ProjectDirectory(["compose.yaml": "services:\n  db:\n    image: postgres:15\n"]).load(
            project: "p"
        ).stack
        let plan = ContainerPlan.make(
            service: service, stack: stack, environment: ["POSTGRES_PASSWORD": "one", "PGDATA": "/x"],
            imageID: "sha256:base")
        let request = try #require(
            PostgresInitCache.request(
                for: service, project: "p", environment: ["POSTGRES_PASSWORD": "one", "PGDATA": "/x"],
                base: Self.base))
        let cached = plan.usingInitializedCluster(request)
        #expect(cached.configHash == plan.configHash)
        #expect(cached.config.Labels?[ProjectLabel.configHash] == plan.configHash)
        #expect(cached.config.Image == request.tag)
        #expect(cached.config.Env?.filter { $0.hasPrefix("PGDATA=") } == ["PGDATA=/var/lib/postgresql/devenv-data"])
        #expect(cached.config.Labels?[PostgresInitCache.fromLabel] == "postgres:15")
    }

    /// Two engines may hold the same image ID (a `docker load` of one into the other): a build
    /// on one, or its refusal (Podman on vfs), does not stop the other's.
    @Test func aFailureOrBuildOnOneEngineSaysNothingOfAnother() throws {
        var local = try #require(try request("    image: postgres:15\n"))
        local.key = "test-\(UUID().uuidString)"
        local.engine = "unix:///var/run/docker.sock"
        var remote = local
        remote.engine = "tcp://10.0.0.2:2376"
        #expect(PostgresInitCache.failureFile(for: local) != PostgresInitCache.failureFile(for: remote))
        #expect(PostgresInitCache.file(local, "lock") != PostgresInitCache.file(remote, "lock"))
        let failed = PostgresInitCache.failureFile(for: local)
        try FileManager.default.createDirectory(
            atPath: (failed as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try "refused\n".write(toFile: failed, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: failed) }
        #expect(PostgresInitCache.worthBuilding([local]).isEmpty)
        #expect(PostgresInitCache.worthBuilding([remote]) == [remote])
    }
}
