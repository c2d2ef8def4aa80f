import DevEnvModel
import Foundation

/// devenv's own `DEVENV_*` variables, read once when the process starts; the modules take
/// their settings from here, never from the environment themselves. (The engine client reads
/// `DEVENV_SSH` and `DEVENV_ENGINE_TIMEOUT` with `DOCKER_HOST` and the rest of the engine's
/// environment, from the same dictionary.)
public struct Settings: Sendable {
    /// `DEVENV_ENGINE_ADDRESS`: where this machine reaches a remote engine's published ports.
    public var engineAddress: String?
    /// `DEVENV_PUBLISH_ADDRESS`: where ports are published on the engine's host.
    public var publishAddress: String?
    /// `DEVENV_PGINIT=0` turns the initialized-cluster cache off.
    public var initializedClusterCache: Bool
    /// `DEVENV_PGINIT_KEEP`: how many initialized-cluster images a machine keeps (8).
    public var initializedClusterImages: Int
    /// `DEVENV_WARM=0` turns the warm database cache off (migrated, seeded databases restored
    /// on a fresh cluster instead of migrating and seeding again).
    public var warmDatabaseCache: Bool
    /// `DEVENV_WARM_KEEP`: how many warm database entries a machine keeps (8).
    public var warmDatabaseEntries: Int
    /// `DEVENV_START_SLOTS`: how many containers `up` creates and starts at once (twice the
    /// cores, at least 4).
    public var startSlots: Int

    public init(environment: [String: String]) {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        engineAddress = value("DEVENV_ENGINE_ADDRESS")
        publishAddress = value("DEVENV_PUBLISH_ADDRESS")
        initializedClusterCache = environment["DEVENV_PGINIT"] != "0"
        initializedClusterImages = value("DEVENV_PGINIT_KEEP").flatMap(Int.init).map { max(0, $0) } ?? 8
        warmDatabaseCache = environment["DEVENV_WARM"] != "0"
        warmDatabaseEntries = value("DEVENV_WARM_KEEP").flatMap(Int.init).map { max(0, $0) } ?? 8
        startSlots =
            value("DEVENV_START_SLOTS").flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil }
            ?? max(4, 2 * ProcessInfo.processInfo.activeProcessorCount)
    }

    /// This process's settings.
    public static let current = Settings(environment: ProcessInfo.processInfo.environment)
}
