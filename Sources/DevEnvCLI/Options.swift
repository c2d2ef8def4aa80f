import ArgumentParser
import DockerEngine
import Foundation

/// `-f FILE` and `-p NAME`, shared by every command that works on a stack.
struct ProjectOptions: ParsableArguments {
    @Option(name: .customShort("f"), help: "Stack file (repeatable; later files override earlier ones).")
    var files: [String] = []

    @Option(
        name: .customShort("p"),
        help: "Project name (default: COMPOSE_PROJECT_NAME, the file's name:, or the directory).")
    var projectName: String?
}

/// The engine from `DOCKER_HOST`/`DOCKER_API_VERSION`, checked with `/_ping` so that an
/// unreachable engine fails at once with one line naming the socket or host.
func connectEngine() async throws -> DockerClient {
    let client = try DockerClient.fromEnvironment()
    _ = try await client.apiVersion()
    return client
}
