import DevEnvCore
import DockerEngine
import Foundation
import Postgres
import StateStore
import TestSupport
import Testing

/// PostgreSQL containers started from a cached initialized cluster, against the real engine.
@Suite(.serialized) struct PostgresInitCacheIntegrationTests {
    /// A local image of its own (postgres:15 plus a label), so this test's cache key is its own.
    func makeImage(_ tag: String, marker: String, engine: DockerClient) async throws -> String {
        var context = TarArchive()
        try context.addFile("Dockerfile", Data("FROM postgres:15\nLABEL devenv.test=\(marker)\n".utf8))
        for try await _ in try await engine.buildImage(
            context: context.data(), options: DockerClient.BuildOptions(tags: [tag]))
        {}
        return try #require(try await engine.imageIfPresent(tag)).Id
    }

    func stack(_ image: String) -> String {
        """
        services:
          db:
            image: \(image)
            environment: { POSTGRES_DB: first }
            x-devenv:
              postgres:
                roles: [{ name: app }]
                databases: [{ name: app, owner: app }]
        """
    }

    @Test func aSecondProjectStartsFromTheCachedClusterWithItsOwnPassword() async throws {
        let first = try await DevenvProject()
        let second = try await DevenvProject()
        let engine = first.fixture.client
        let image = "\(first.name)-postgres:15"
        var bases: [String] = []
        do {
            bases.append(try await makeImage(image, marker: first.name, engine: engine))
            for project in [first, second] {
                try stack(image).write(toFile: project.directory + "/compose.yaml", atomically: true, encoding: .utf8)
            }
            // The first container initializes as usual and asks for the cache in the background.
            let up = try await first.devenv(["up", "--random-ports"])
            #expect(up.status == 0, "\(up.stderr)")
            let firstID = try #require(try await first.containers()["db"])
            #expect(try await engine.inspectContainer(firstID).Config?.Image == image)
            var cached: [ImageSummary] = []
            // A build takes seconds, minutes on a loaded CI machine; the image is committed a moment
            // before it is tagged, so wait for the tag.
            for _ in 0..<1_800 where cached.isEmpty {
                try await Task.sleep(for: .milliseconds(100))
                cached = try await engine.listImages(labels: [PostgresInitCache.fromLabel: image]).filter {
                    ($0.RepoTags ?? []).contains { !$0.hasPrefix("<none>") }
                }
            }
            let cache = try #require(cached.first, "the cache image was made in the background")
            let tag = try #require(cache.RepoTags?.first)
            #expect(cache.Labels?[PostgresInitCache.baseLabel] == bases[0])

            // The second project, with its own generated passwords, starts from it.
            let again = try await second.devenv(["up", "--random-ports"])
            #expect(again.status == 0, "\(again.stderr)")
            let id = try #require(try await second.containers()["db"])
            let inspected = try await engine.inspectContainer(id)
            #expect(inspected.Config?.Image == tag)
            #expect(inspected.Config?.Labels?[PostgresInitCache.keyLabel] != nil)
            #expect(
                try await second.statusRows().first?["image"] as? String == image, "status names the service's image")
            let env = try await second.hostEnvironment()
            let url = try #require(env["DATABASE_URL"])
            let app = try PostgresConnection(url: url)
            #expect(try app.execute("SELECT current_user").scalar == "app", "provisioned with the project's password")
            #expect(try app.execute("SELECT count(*) FROM pg_database WHERE datname = 'first'").scalar == "1")
            let log = try await second.devenv(["logs", "db"])
            #expect(!log.stdout.contains("init process complete"), "no initdb: \(log.stdout)")
            // The superuser has the second project's password, not the first's (nor a placeholder).
            let port = try #require(URLComponents(string: url)?.port)
            func admin(_ project: DevenvProject) async throws -> String {
                try await project.devenv(["exec", "db", "--", "printenv", "POSTGRES_PASSWORD"]).stdout
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let (own, other) = (try await admin(second), try await admin(first))
            #expect(!own.isEmpty && own != other)
            let superuser = try PostgresConnection(url: "postgresql://postgres:\(own)@127.0.0.1:\(port)/postgres")
            #expect(try superuser.execute("SHOW data_directory").scalar == PostgresInitCache.dataDirectory)
            #expect(throws: (any Error).self) {
                _ = try PostgresConnection(url: "postgresql://postgres:\(other)@127.0.0.1:\(port)/postgres")
            }

            // A container whose superuser the cached cluster does not have fails at once, saying
            // so, with its password nowhere in the logs.
            var config = ContainerConfig(image: tag)
            config.Env = ["POSTGRES_USER=nobody", "POSTGRES_PASSWORD=never-logged-7f3a"]
            let odd = try await engine.createContainer(name: nil, config: config).Id
            try await engine.startContainer(odd)
            let exit = try await engine.waitContainer(odd, condition: "not-running").StatusCode
            var logs = ""
            for try await frame in try await engine.logs(odd, options: DockerClient.LogOptions(), tty: false) {
                logs += String(decoding: frame.payload, as: UTF8.self)
            }
            try? await engine.removeContainer(odd, force: true, volumes: true)
            #expect(exit == 1)
            #expect(logs.contains("devenv-pginit: the cached cluster did not take"), "\(logs)")
            #expect(!logs.contains("never-logged-7f3a"))

            // The cache image gone between the lookup and the create: the service's own image.
            let third = try await DevenvProject()
            do {
                try stack(image).write(toFile: third.directory + "/compose.yaml", atomically: true, encoding: .utf8)
                let once = Once()
                let orchestrator = Orchestrator(
                    engine: FaultyEngine(engine) { operation, subject in
                        operation == "createContainer" && subject.hasSuffix("-db-1") && once.first()
                            ? DockerEngineError(.api, "No such image: \(tag)", status: 404) : nil
                    },
                    stack: try StackLoader.load(
                        StackLoadOptions(projectName: third.name, workingDirectory: third.directory, environment: [:])
                    ).stack,
                    store: try StateStore(path: third.state + "/state.db"))
                _ = try await orchestrator.up(UpOptions())
                let fallback = try #require(try await third.containers()["db"])
                #expect(try await engine.inspectContainer(fallback).Config?.Image == image)
            } catch {
                Issue.record(error)
            }
            await third.cleanUp()

            // The size bound takes the oldest images no container uses: with one to keep, the
            // older cache image is in use, so the newer unused one goes. (Only this test's
            // images are considered: other tests' caches are not this test's to remove.)
            var fake = TarArchive()
            try fake.addFile("Dockerfile", Data("FROM debian:bookworm-slim\n".utf8))
            let unused = "\(PostgresInitCache.repository):\(first.name)-unused"
            for try await _ in try await engine.buildImage(
                context: fake.data(),
                options: DockerClient.BuildOptions(
                    tags: [unused],
                    labels: [PostgresInitCache.keyLabel: "unused", PostgresInitCache.fromLabel: image]))
            {}
            let evicted = await PostgresInitCache.evict(
                keeping: 1, matching: [PostgresInitCache.fromLabel: image], engine: engine)
            #expect(evicted == [unused])
            #expect(try await engine.imageIfPresent(tag) != nil, "in use by the second project's db")

            // Data lives in the container and survives a restart (the password is set only once).
            try app.executeScript("CREATE TABLE kept (n int); INSERT INTO kept VALUES (7);")
            try await engine.stopContainer(id, timeout: 10)
            try await engine.startContainer(id)
            let restarted = try #require(try await second.hostEnvironment()["DATABASE_URL"])  // a new host port
            var kept: String?
            for _ in 0..<100 where kept == nil {
                kept = try? PostgresConnection(url: restarted).execute("SELECT n FROM kept")
                    .scalar
                if kept == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(kept == "7")

            // Once the reference names another image and nothing uses the cache, gc removes it.
            #expect(try await second.devenv(["down"]).status == 0)
            #expect(try await first.devenv(["down"]).status == 0)
            bases.append(try await makeImage(image, marker: second.name, engine: engine))
            let gc = try await runProcessAsync(
                devenvExecutable(), ["gc", "--json"], environment: second.environment,
                currentDirectory: second.directory)
            #expect(gc.status == 0, "\(gc.stderr)")
            // This gc removes it, unless another test's gc running meanwhile did so first.
            #expect(try await engine.imageIfPresent(tag) == nil, "gc said: \(gc.stdout)")
        } catch {
            Issue.record(error)
        }
        await first.cleanUp()
        await second.cleanUp()
        for image in try await engine.listImages(labels: [PostgresInitCache.fromLabel: image]) {
            try? await engine.removeImage(image.Id, force: true)
        }
        try? await engine.removeImage(image, force: false)
        for base in bases { try? await engine.removeImage(base, force: false) }
    }
}

extension PostgresInitCacheIntegrationTests {
    /// An image that ships its own initdb.d scripts (they may read any variable, which the key
    /// does not cover): the build refuses it once, and it is never tried again.
    @Test func anImageWithItsOwnInitScriptsIsNeverCached() async throws {
        try await DevenvProject().run { project in
            let engine = project.fixture.client
            let image = "\(project.name)-postgres-initdb:15"
            var context = TarArchive()
            try context.addFile(
                "Dockerfile",
                Data(
                    "FROM postgres:15\nCOPY app.sql /docker-entrypoint-initdb.d/\nLABEL devenv.test=\(project.name)\n"
                        .utf8))
            try context.addFile("app.sql", Data("CREATE TABLE app (note text);\n".utf8))
            for try await _ in try await engine.buildImage(
                context: context.data(), options: DockerClient.BuildOptions(tags: [image]))
            {}
            do {
                // Its own repository name: declared a PostgreSQL server, as such images must be.
                try "services:\n  db:\n    image: \(image)\n    x-devenv: { postgres: {} }\n".write(
                    toFile: project.directory + "/compose.yaml", atomically: true, encoding: .utf8)
                let base = try #require(try await engine.imageIfPresent(image))
                let stack = try StackLoader.load(
                    StackLoadOptions(projectName: project.name, workingDirectory: project.directory, environment: [:])
                ).stack
                let service = try #require(stack.service("db"))
                let request = try #require(
                    PostgresInitCache.request(
                        for: service, project: project.name, environment: ["POSTGRES_PASSWORD": "x"], base: base))
                #expect(PostgresInitCache.worthBuilding([request]) == [request])
                await PostgresInitCache.buildMissing([request], engine: engine)
                #expect(await PostgresInitCache.image(for: request, engine: engine) == nil)
                #expect(PostgresInitCache.worthBuilding([request]).isEmpty, "a refused build is not retried")
                let reason = try String(contentsOfFile: PostgresInitCache.failureFile(for: request), encoding: .utf8)
                #expect(reason.contains("has its own /docker-entrypoint-initdb.d scripts"))
                try FileManager.default.removeItem(atPath: PostgresInitCache.failureFile(for: request))
            } catch {
                Issue.record(error)
            }
            try? await engine.removeImage(image, force: false)
        }
    }
}

extension PostgresInitCacheIntegrationTests {
    /// The same key built twice (two hosts sharing an engine: the build lock is local): the
    /// older image loses its tag, and gc removes it while the tagged one stays.
    @Test func anUntaggedCacheImageIsCollected() async throws {
        try await DevenvProject().run { project in
            let engine = project.fixture.client
            // Current in every other respect: its base is what its reference names, its recipe
            // the present one.
            let reference = "debian:bookworm-slim"
            let base = try #require(try await engine.imageIfPresent(reference)).Id
            let tag = "\(PostgresInitCache.repository):\(project.name)-twice"
            var ids: [String] = []
            for build in 1...2 {
                var context = TarArchive()
                try context.addFile(
                    "Dockerfile", Data("FROM \(reference)\nLABEL devenv.build=\(project.name)-\(build)\n".utf8))
                for try await _ in try await engine.buildImage(
                    context: context.data(),
                    options: DockerClient.BuildOptions(
                        tags: [tag],
                        labels: [
                            PostgresInitCache.keyLabel: project.name, PostgresInitCache.fromLabel: reference,
                            PostgresInitCache.baseLabel: base, PostgresInitCache.formatLabel: PostgresInitCache.format,
                        ]))
                {}
                ids.append(try #require(try await engine.imageIfPresent(tag)).Id)
            }
            #expect(ids[0] != ids[1])
            do {
                _ = try await PostgresInitCache.collectStale(engine: engine)
                #expect(try await engine.imageIfPresent(ids[0]) == nil, "the untagged older build is collected")
                #expect(try await engine.imageIfPresent(tag) != nil, "the tagged current one stays")
            } catch {
                Issue.record(error)
            }
            for id in ids { try? await engine.removeImage(id, force: true) }
        }
    }
}

/// True the first time only.
final class Once: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false

    func first() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if done { return false }
        done = true
        return true
    }
}

/// A data directory in a named volume (issue #19: every reference stack keeps PostgreSQL in
/// one, so `up` after `down -v` ran initdb every time): the volume's first start copies the
/// cached cluster in, with the project's own password; a volume that holds data keeps it.
@Suite struct PostgresInitCacheVolumeTests {
    static let stack = """
        services:
          db:
            image: postgres:15
            volumes: ["pgdata:/var/lib/postgresql/data"]
            x-devenv:
              postgres:
                roles: [{ name: app }]
                databases: [{ name: app, owner: app }]
        volumes:
          pgdata:
        """

    @Test(arguments: TestEngine.all)
    func aFreshNamedVolumeGetsTheCachedClusterAndAFullOneKeepsItsData(engine: TestEngine) async throws {
        try await DevenvProject(files: ["compose.yaml": Self.stack], engine: engine).run { project in
            let client = project.fixture.client
            if let reason = await PostgresInitCache.unsuitable(client) {
                // Podman on vfs storage never makes cache images (PostgresInitCache.unsuitable).
                print("\(engine.name): no cluster cache here: \(reason)")
                return
            }
            let first = try await project.devenv(["up", "--random-ports"])
            #expect(first.status == 0, "\(engine.name): \(first.stderr)")
            // This container's request (its key), from what the service set over the image's
            // environment: other tests make cache images of the same base with other keys.
            let base = try #require(try await client.imageIfPresent("postgres:15"))
            let firstID = try #require(try await project.containers()["db"])
            let imageEnvironment = Set(base.Config?.Env ?? [])
            let own = (try await client.inspectContainer(firstID).Config?.Env ?? []).filter {
                !imageEnvironment.contains($0)
            }
            let environment = Dictionary(
                own.compactMap { line -> (String, String)? in
                    guard let equals = line.firstIndex(of: "=") else { return nil }
                    return (String(line[..<equals]), String(line[line.index(after: equals)...]))
                }, uniquingKeysWith: { $1 })
            let stack = try StackLoader.load(
                StackLoadOptions(projectName: project.name, workingDirectory: project.directory, environment: [:])
            ).stack
            let service = try #require(stack.service("db"))
            let request = try #require(
                PostgresInitCache.request(for: service, project: project.name, environment: environment, base: base))
            #expect(request.volumeDataDirectory == "/var/lib/postgresql/data")
            var cached: ImageInspect?
            for _ in 0..<1_800 where cached == nil {
                cached = await PostgresInitCache.image(for: request, engine: client)
                if cached == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(cached != nil, "\(engine.name): the cache image was made in the background")
            #expect(try await project.devenv(["down", "-v"]).status == 0)

            let warm = try await project.devenv(["up", "--random-ports"])
            #expect(warm.status == 0, "\(engine.name): \(warm.stderr)")
            let id = try #require(try await project.containers()["db"])
            let inspected = try await client.inspectContainer(id)
            #expect(
                inspected.Config?.Labels?[PostgresInitCache.keyLabel] == request.key,
                "\(engine.name): made from the cache image: \(inspected.Config?.Image ?? "")")
            let log = try await project.devenv(["logs", "db"])
            #expect(!log.stdout.contains("init process complete"), "\(engine.name): no initdb: \(log.stdout)")
            let url = try #require(try await project.hostEnvironment()["DATABASE_URL"])
            let app = try PostgresConnection(url: url)
            #expect(try app.execute("SELECT current_user").scalar == "app", "\(engine.name)")
            try app.executeScript("CREATE TABLE kept (n int); INSERT INTO kept VALUES (7);")
            app.close()
            let password = try await project.devenv(["exec", "db", "--", "printenv", "POSTGRES_PASSWORD"]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            func superuser(_ url: String) throws -> PostgresConnection {
                let address = try #require(URLComponents(string: url))
                let host = try #require(address.host)
                let port = try #require(address.port)
                return try PostgresConnection(url: "postgresql://postgres:\(password)@\(host):\(port)/postgres")
            }
            let admin = try superuser(url)
            #expect(
                try admin.execute("SHOW data_directory").scalar == "/var/lib/postgresql/data",
                "\(engine.name): the data stays in the named volume, with the project's superuser password")
            admin.close()

            // `down` keeps the volume: the next container finds data there and copies nothing.
            #expect(try await project.devenv(["down"]).status == 0)
            let again = try await project.devenv(["up", "--random-ports"])
            #expect(again.status == 0, "\(engine.name): \(again.stderr)")
            let restarted = try #require(try await project.hostEnvironment()["DATABASE_URL"])
            let kept = try PostgresConnection(url: restarted)
            #expect(try kept.execute("SELECT n FROM kept").scalar == "7", "\(engine.name)")
            kept.close()
            try superuser(restarted).close()
        }
    }
}
