import ArgumentParser
import DevEnvCore
import Foundation

extension DB {
    /// Run in the background after an `up` whose PostgreSQL initialized its own cluster: makes
    /// the cache image later containers of the same image and settings start from.
    struct PrepareInitCache: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "prepare-init-cache",
            abstract: "Make initialized-cluster images from requests on stdin (run by devenv itself).",
            shouldDisplay: false)

        func run() async throws {
            let input = FileHandle.standardInput.readDataToEndOfFile()
            let requests = try JSONDecoder().decode([PostgresInitCache.Request].self, from: input)
            await PostgresInitCache.buildMissing(requests, engine: try await connectEngine())
        }
    }
}

extension PostgresInitCache {
    /// Starts `devenv db prepare-init-cache` detached, the requests on its stdin; returns at once.
    static func buildInBackground(_ requests: [Request]) {
        let requests = worthBuilding(requests)
        guard !requests.isEmpty, let data = try? JSONEncoder().encode(requests) else { return }
        runInBackground(["db", "prepare-init-cache"], input: data)
    }
}
