import ArgumentParser
import DevEnvCore
import StateStore

struct GC: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract:
            "Remove expired ephemeral projects (devenv test, up --ephemeral), stale devenv-pginit images and warm database entries beyond DEVENV_WARM_KEEP.",
        discussion: """
            Expired projects are also removed at the start of every 'devenv up'; only resources labelled
            dev.devenv.ephemeral and signed with this user's key (kept in the state store) are considered,
            and a running container whose holder lives, or lives on another host, is kept. A devenv-pginit image (a PostgreSQL image with its cluster
            initialized, see README) is stale once its image reference names another image, and goes when
            no container uses it. Warm database entries (migrated, seeded databases a later 'up' restores, see README)
            go beyond DEVENV_WARM_KEEP (8), the least recently used first, and those of an older format. Nothing else
            is touched.
            """)

    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let engine = try await connectEngine()
        let store = try StateStore()
        let removed = try await Reaper(engine: engine, key: try Ephemeral.signingKey(in: store)).collect()
        let images = try await PostgresInitCache.collectStale(engine: engine)
        let warm = WarmDatabaseCache(statePath: store.path).evict()
        if json {
            try Output(json: true).printJSON(["removed": removed, "images": images, "warm": warm])
        } else {
            print(removed.isEmpty ? "nothing expired" : "removed: \(removed.joined(separator: ", "))")
            if !images.isEmpty { print("removed stale initialized-cluster images: \(images.joined(separator: ", "))") }
            if !warm.isEmpty { print("removed warm database entries: \(warm.joined(separator: ", "))") }
        }
    }
}
