import DevEnvCore
import DockerEngine
import Foundation
import Testing

/// Something that owns engine resources and removes them after a test, passed or failed.
protocol CleansUp {
    func cleanUp() async
}

extension CleansUp {
    /// Runs `body` with `self`, then `cleanUp()`, whether `body` threw or not.
    func withCleanUp(_ body: (Self) async throws -> Void) async throws {
        do {
            try await body(self)
        } catch {
            await cleanUp()
            throw error
        }
        await cleanUp()
    }
}

/// An engine the integration tests run against, with the variables that select it. The
/// rootful dockerd of the machine (whatever DOCKER_HOST says, else the default socket) is always
/// there; `make test` adds rootless Podman, a remote engine over TLS and the same engine over
/// ssh through `DEVENV_TEST_ENGINES` (`NAME:VAR=VALUE,VAR=VALUE;NAME:…`).
struct TestEngine: Sendable, CustomTestStringConvertible {
    let name: String
    /// Laid over this process's environment for the engine's clients and devenv runs.
    let environment: [String: String]

    static let ambient = TestEngine(name: "dockerd", environment: [:])

    /// The ambient engine, then every engine `make test` set up.
    static let all: [TestEngine] = {
        let listed = ProcessInfo.processInfo.environment["DEVENV_TEST_ENGINES"] ?? ""
        return [ambient]
            + listed.split(separator: ";").compactMap { entry in
                guard let colon = entry.firstIndex(of: ":") else { return nil }
                var environment: [String: String] = [:]
                for pair in entry[entry.index(after: colon)...].split(separator: ",") {
                    guard let equals = pair.firstIndex(of: "=") else { continue }
                    environment[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
                }
                return TestEngine(name: String(entry[..<colon]), environment: environment)
            }
    }()

    /// Engines `DEVENV_TEST_ENGINES_REQUIRED` names that `make test` failed to provide: a
    /// missing engine must fail the suite, not shrink it.
    static var missing: [String] {
        let required = (ProcessInfo.processInfo.environment["DEVENV_TEST_ENGINES_REQUIRED"] ?? "")
            .split(separator: ",").map(String.init)
        return required.filter { name in !all.contains { $0.name == name } }
    }

    var merged: [String: String] { ProcessInfo.processInfo.environment.merging(environment) { $1 } }

    func client() throws -> DockerClient { try DockerClient.fromEnvironment(merged) }

    /// Where this machine reaches the engine's published ports.
    func hostEndpoints() throws -> HostEndpoints {
        HostEndpoints(connection: try client().connection, settings: Settings(environment: merged))
    }

    var testDescription: String { name }
}

/// The shared real engine (DOCKER_HOST or the default socket, or one of `TestEngine.all`) and
/// per-test project labels, with cleanup that runs whether the test passed or failed.
struct EngineFixture: CleansUp {
    let client: DockerClient
    let engine: TestEngine
    /// Unique per test, so tests sharing one dockerd never meet.
    let project: String
    var labels: [String: String] { ["com.docker.compose.project": project, "dev.devenv.test": "integration"] }

    init(project name: String? = nil, engine: TestEngine = .ambient) async throws {
        self.engine = engine
        client = try engine.client()
        project = name ?? "devenv-it-" + UUID().uuidString.prefix(8).lowercased()
        do {
            _ = try await client.ping()
        } catch {
            Issue.record(
                "integration tests need the \(engine.name) engine (run 'make test', which starts it): \(error)")
            throw error
        }
    }

    /// Runs `body`, then removes every container, network and volume labelled with this project.
    func run(_ body: (EngineFixture) async throws -> Void) async throws {
        try await self.withCleanUp(body)
    }

    func cleanUp() async {
        // This project, and the disposable `<project>-test-…` projects `devenv test` made for it.
        func ours(_ labels: [String: String]?) -> Bool {
            let name = labels?["com.docker.compose.project"] ?? ""
            return name == project || name.hasPrefix(project + "-test-")
        }
        for filter in [["com.docker.compose.project": project], ["dev.devenv.ephemeral": "true"]] as [[String: String?]]
        {
            for container in (try? await client.listContainers(all: true, labels: filter)) ?? []
            where ours(container.Labels) {
                try? await client.removeContainer(container.Id, force: true, volumes: true)
            }
            for network in (try? await client.listNetworks(labels: filter)) ?? [] where ours(network.Labels) {
                try? await client.removeNetwork(network.Id)
            }
            for volume in (try? await client.listVolumes(labels: filter)) ?? [] where ours(volume.Labels) {
                try? await client.removeVolume(volume.Name, force: true)
            }
        }
        // Only the project's own tags, without force: a reference stack's shared `image:` name
        // (dials-backend) stays, and a parallel test's image sharing build layers is untouched.
        for image in (try? await client.listImages(labels: ["com.docker.compose.project": project])) ?? [] {
            for tag in image.RepoTags ?? [] where tag.hasPrefix(project + "-") {
                try? await client.removeImage(tag)
            }
        }
    }

    /// A container from the local `debian:bookworm-slim` running `command`.
    func createContainer(_ command: [String], name: String? = nil, tty: Bool = false) async throws -> String {
        var config = ContainerConfig(image: "debian:bookworm-slim")
        config.Cmd = command
        config.Labels = labels
        config.Tty = tty
        config.StopSignal = "SIGKILL"
        return try await client.createContainer(name: name, config: config).Id
    }
}
