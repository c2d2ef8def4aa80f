import ArgumentParser
import DevEnvCore
import Foundation

struct Seed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load a sample set; refuses a database that already holds data unless --force.",
        discussion: """
            SET is a directory with manifest.json, or a name under sample-data/. One transaction; a
            re-seed of the same set does nothing; --force truncates the set's tables and loads again,
            atomically. Afterwards the database is snapshotted as 'seeded' for 'devenv db reset'.
            """)

    @OptionGroup var database: DatabaseOptions
    @Argument(help: "The sample set (a directory, or a name under sample-data/).") var set: String
    @Option(name: .customLong("database"), help: "The database to load (default: the set's, or the stack's first).")
    var databaseName: String?
    @Flag(help: "Replace what the set's tables hold.") var force = false

    func run() async throws {
        let sampleSet = try SampleSet(directory: Self.locate(set))
        let context = try await database.context()
        guard let name = databaseName ?? sampleSet.manifest.database ?? context.defaultDatabase else {
            throw CLIError(message: "which database? pass --database NAME (the set names none)", exitCode: 2)
        }
        let force = self.force
        let started = Date()
        let report = try await runInterruptibly {
            try await offCooperativePool { try context.seed(sampleSet, into: name, force: force) }
        }
        switch report.outcome {
        case .alreadySeeded:
            print("\(name) already holds sample set \(report.set); nothing to do")
        case .otherVersion:
            throw CLIError(
                message:
                    "\(name) holds another version of sample set \(report.set); nothing was written; pass --force to replace it",
                exitCode: 1)
        case .seeded(let tables, let rows):
            print(
                String(
                    format: "seeded %@ into %@: %d tables, %d rows in %.2fs", report.set, name, tables, rows,
                    Date().timeIntervalSince(started)))
            database.prepareSpareInBackground(database: name, snapshot: DatabaseSnapshots.seededName)
        }
    }

    /// A directory as given, or `sample-data/NAME` here.
    static func locate(_ set: String) -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: set, isDirectory: &isDirectory), isDirectory.boolValue { return set }
        return "sample-data/" + set
    }
}
