import Crypto
import DevEnvModel
import DevEnvProvisioning
import DevEnvRuntime
import Foundation

/// A warm `up`: the databases a Django service migrated and seeded, kept on this machine, so
/// that the next fresh cluster of the same stack (after `down -v`, or a new project from the
/// same file) gets them back with `pg_restore` instead of running the migrations and loading
/// the sample sets again.
///
/// An entry is a tar of `pg_dump -Fc` files, one per database of the PostgreSQL service, and a
/// JSON record of what it holds, under `warm/` next to the state store (mode 0600 in a 0700
/// directory: the dumps hold the superuser's password hash and the sample rows). Its key is
/// the SHA-256 of everything that shapes those databases (`Key`); any change runs the real
/// migrations and seeding, and makes a new entry. Entries never leave the machine: the key
/// holds image IDs, which only this machine's engine gives. `DEVENV_WARM=0` turns it off;
/// `DEVENV_WARM_KEEP` (8) bounds the entries, the least recently used going first, at every
/// store and in `devenv gc`.
public struct WarmDatabaseCache: Sendable {
    /// Bumped when what an entry holds, or how it is restored, changes: part of the key, and
    /// in the record, so `gc` removes entries of an older format.
    public static let format = "1"

    /// What an entry holds.
    public struct Record: Codable, Sendable, Equatable {
        public var format: String
        public var key: String
        /// The databases dumped, in the order of the tar's `<index>.dump` files.
        public var databases: [String]
        /// The databases the sample sets were loaded into (their `seeded` snapshots are made
        /// again after a restore).
        public var seeded: [String]
        /// SHA-256 of the key and the superuser's password when the entry was made: a restore
        /// into a project with another password sets that project's.
        public var superuser: String?
        /// Where the superuser's row is and how its password is hashed: a restore into a project
        /// with another password sets it with one `UPDATE` (nil: with Django's `manage.py`).
        public var superuserRow: SuperuserRow?
        public var project: String
        public var service: String
        public var created: Date
    }

    /// Everything that shapes the databases, hashed into the key. Templates (`{{ db.roles.… }}`)
    /// stay unresolved, so projects with other generated passwords share an entry.
    public struct Key: Codable, Sendable {
        public var format = WarmDatabaseCache.format
        /// The image ID of the PostgreSQL container, its `x-devenv.postgres` and environment.
        public var databaseImage: String
        public var databaseSpec: PostgresSpec?
        public var databaseEnvironment: [String: String]
        /// The image ID of the container that runs the migrations, its `x-devenv.django`, its
        /// environment (file values and templates), command and working directory.
        public var appImage: String
        public var appSpec: DjangoSpec?
        public var appEnvironment: [String: String]
        public var appTemplates: [String: String]
        public var workingDir: String?
        /// SHA-256 of the migration files in the service's bind mounts (the image's own are
        /// covered by its ID).
        public var mountedMigrations: String
        /// `x-devenv.seed` and each set's manifest digest (which covers its files' SHA-256s).
        public var seed: JSONValue?
        public var sampleSets: [String]
        public var databases: [String]

        public var digest: String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            // swift-format-ignore: NeverForceUnwrap
            return SHA256.hash(data: try! encoder.encode(self)).hexadecimal
        }
    }

    public let directory: String

    /// The cache next to the state store at `statePath`.
    public init(statePath: String) {
        directory = ((statePath as NSString).deletingLastPathComponent as NSString).appendingPathComponent("warm")
    }

    public static var enabled: Bool { Settings.current.warmDatabaseCache }
    public static var limit: Int { Settings.current.warmDatabaseEntries }

    func tarPath(_ key: String) -> String { (directory as NSString).appendingPathComponent("\(key).tar") }
    func recordPath(_ key: String) -> String { (directory as NSString).appendingPathComponent("\(key).json") }

    /// The entry for `key`, when it is whole and of this format; marks it used.
    public func entry(_ key: String) -> (record: Record, tar: Data)? {
        guard let data = FileManager.default.contents(atPath: recordPath(key)),
            let record = try? Self.decoder.decode(Record.self, from: data),
            record.format == Self.format, record.key == key,
            let tar = FileManager.default.contents(atPath: tarPath(key))
        else { return nil }
        try? FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: recordPath(key))
        return (record, tar)
    }

    /// Stores an entry: the tar first, the record last (a record names a whole tar), each
    /// written aside and renamed; then the least recently used beyond `limit` go.
    public func store(_ record: Record, tar: Data, limit: Int = WarmDatabaseCache.limit) throws {
        let manager = FileManager.default
        try manager.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try manager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.dateEncodingStrategy = .iso8601
        for (path, data) in [(tarPath(record.key), tar), (recordPath(record.key), try encoder.encode(record))] {
            let aside = path + ".\(ProcessInfo.processInfo.processIdentifier).tmp"
            guard manager.createFile(atPath: aside, contents: data, attributes: [.posixPermissions: 0o600]) else {
                throw DevEnvError("cannot write \(aside); free space or make \(directory) writable")
            }
            if manager.fileExists(atPath: path) { try manager.removeItem(atPath: path) }
            try manager.moveItem(atPath: aside, toPath: path)
        }
        evict(keeping: limit)
    }

    /// The entries' keys, least recently used first, with their records (nil: unreadable or
    /// of another format).
    func inventory() -> [(key: String, record: Record?, used: Date)] {
        let manager = FileManager.default
        let names = (try? manager.contentsOfDirectory(atPath: directory)) ?? []
        let keys = Set(
            names.compactMap { name -> String? in
                guard !name.hasSuffix(".tmp") else { return nil }
                return name.hasSuffix(".json") || name.hasSuffix(".tar")
                    ? (name as NSString).deletingPathExtension : nil
            })
        return keys.map { key in
            let record = manager.contents(atPath: recordPath(key)).flatMap {
                try? Self.decoder.decode(Record.self, from: $0)
            }
            let used =
                (try? manager.attributesOfItem(atPath: recordPath(key))[.modificationDate] as? Date) ?? .distantPast
            return (key, record, used)
        }.sorted { ($0.used, $0.key) < ($1.used, $1.key) }
    }

    /// Removes the least recently used entries beyond `limit`, and those of another format or
    /// half written (a tar without its record); returns the removed keys.
    @discardableResult
    public func evict(keeping limit: Int = WarmDatabaseCache.limit) -> [String] {
        let entries = inventory()
        var removed: [String] = []
        var kept = entries.filter { $0.record?.format == Self.format }
        for entry in entries where entry.record?.format != Self.format { removed.append(entry.key) }
        while kept.count > max(0, limit) { removed.append(kept.removeFirst().key) }
        for key in removed {
            try? FileManager.default.removeItem(atPath: tarPath(key))
            try? FileManager.default.removeItem(atPath: recordPath(key))
        }
        // Leftovers of a store killed between its writes.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasSuffix(".tmp")
        {
            try? FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(name))
        }
        return removed.sorted()
    }

    /// What a record keeps of the superuser's password: whether it is the one a project uses.
    public static func fingerprint(key: String, password: String) -> String {
        SHA256.hash(data: Data("\(key)\u{0}\(password)".utf8)).hexadecimal
    }

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    /// SHA-256 over the `migrations/*.py` files under bind mounts' sources, by the mount's
    /// target, relative path and content (two checkouts of one repository share entries); nil
    /// when the mounts hold more than `limit` files to look at (then no entry is made: hashing
    /// them would cost what the cache saves).
    public static func migrationDigest(of mounts: [(source: String, target: String)], limit: Int = 50_000) -> String? {
        var hasher = SHA256()
        var seen = 0
        for (root, target) in mounts.sorted(by: { ($0.target, $0.source) < ($1.target, $1.source) }) {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue,
                let walker = FileManager.default.enumerator(atPath: root)
            else { continue }
            var matches: [String] = []
            while let path = walker.nextObject() as? String {
                seen += 1
                if seen > limit { return nil }
                let name = (path as NSString).lastPathComponent
                if name.hasPrefix(".") || name == "node_modules" || name == "__pycache__" {
                    walker.skipDescendants()
                    continue
                }
                if path.hasSuffix(".py") && (path.hasPrefix("migrations/") || path.contains("/migrations/")) {
                    matches.append(path)
                }
            }
            for path in matches.sorted() {
                hasher.update(data: Data("\(target)\u{0}\(path)\u{0}".utf8))
                hasher.update(
                    data: FileManager.default.contents(atPath: (root as NSString).appendingPathComponent(path))
                        ?? Data())
            }
        }
        return hasher.finalize().hexadecimal
    }
}
