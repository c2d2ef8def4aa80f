import Crypto
import DevEnvModel
import DevEnvProvisioning
import DevEnvRuntime
import Foundation

/// `manifest.json` of a sample set: what to load, in which order, and how to check it.
public struct SampleManifest: Codable, Sendable, Equatable {
    public struct Table: Codable, Sendable, Equatable {
        public var schema: String
        public var name: String
        /// The data file, relative to the set's directory, in PostgreSQL COPY text format
        /// (or CSV with a header when `format` is `csv`).
        public var file: String
        public var columns: [String]
        public var rows: Int
        /// SHA-256 of the file, hex.
        public var sha256: String
        public var format: String

        public init(
            schema: String, name: String, file: String, columns: [String], rows: Int, sha256: String,
            format: String = "text"
        ) {
            self.schema = schema
            self.name = name
            self.file = file
            self.columns = columns
            self.rows = rows
            self.sha256 = sha256
            self.format = format
        }
    }

    public var format: Int
    public var name: String
    /// The database the set belongs in, when the target does not say.
    public var database: String?
    /// Tables in load order: referenced tables before the tables that reference them.
    public var tables: [Table]
    public var sourceSchemaHash: String?
    public var policyHash: String?
    /// The subset rule used at capture.
    public var subset: String?

    public init(
        name: String, database: String?, tables: [Table], sourceSchemaHash: String? = nil, policyHash: String? = nil,
        subset: String? = nil
    ) {
        format = 1
        self.name = name
        self.database = database
        self.tables = tables
        self.sourceSchemaHash = sourceSchemaHash
        self.policyHash = policyHash
        self.subset = subset
    }

    enum CodingKeys: String, CodingKey {
        case format, name, database, tables, subset
        case sourceSchemaHash = "source_schema_hash"
        case policyHash = "policy_hash"
    }
}

/// A sample set on disk: a directory with `manifest.json` and one file per table.
public struct SampleSet: Sendable {
    public let directory: String
    public let manifest: SampleManifest
    /// SHA-256 of `manifest.json` as written: what the seed ledger records.
    public let manifestDigest: String

    public static let manifestName = "manifest.json"

    /// Reads and checks the manifest (the data files are checked while they load).
    public init(directory: String) throws {
        let path = (directory as NSString).appendingPathComponent(Self.manifestName)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DevEnvError("no sample set at \(directory): \(Self.manifestName) is missing", exitCode: 2)
        }
        let manifest: SampleManifest
        do {
            manifest = try JSONDecoder().decode(SampleManifest.self, from: data)
        } catch {
            throw DevEnvError("\(path) is not a devenv sample manifest: \(error)", exitCode: 2)
        }
        guard manifest.format == 1 else {
            throw DevEnvError(
                "\(path) has format \(manifest.format); this devenv reads format 1: upgrade devenv", exitCode: 2)
        }
        for table in manifest.tables {
            let file = (directory as NSString).appendingPathComponent(table.file)
            guard !table.file.contains(".."), !table.file.hasPrefix("/"), FileManager.default.fileExists(atPath: file)
            else {
                throw DevEnvError(
                    "sample set \(directory): \(table.file) (table \(table.schema).\(table.name)) is missing",
                    exitCode: 2)
            }
            guard ["text", "csv"].contains(table.format) else {
                throw DevEnvError(
                    "sample set \(directory): table \(table.name) has unknown format '\(table.format)'", exitCode: 2)
            }
        }
        self.directory = directory
        self.manifest = manifest
        manifestDigest = SHA256.hash(data: data).hexadecimal
    }

    /// Writes a manifest with sorted keys, so the same set is byte-identical.
    public static func write(_ manifest: SampleManifest, to directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try (encoder.encode(manifest) + Data("\n".utf8)).write(
            to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent(manifestName)))
    }

    /// SHA-256 of bytes, hex.
    static func digestOf(_ data: Data) -> String { SHA256.hash(data: data).hexadecimal }

    /// SHA-256 of a file, hex, read in chunks.
    public static func digest(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DevEnvError("cannot read \(path)")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().hexadecimal
    }
}
