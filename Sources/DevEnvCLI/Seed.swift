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
    @Option(
        name: .customLong("database"),
        help: "The database to load (default: --target's, else the set's, else the stack's first).")
    var databaseName: String?
    @Flag(
        help:
            "Replace what the set's tables hold; on a server, also seed while other sessions are open (they are never disconnected)."
    )
    var force = false
    @Option(help: "Snapshot the seeded database as NAME (on a server none is taken unless asked).") var snapshot:
        String?
    @Flag(help: "No snapshot (the local stack takes 'seeded' by default, for 'devenv db reset').") var noSnapshot =
        false

    func run() async throws {
        let sampleSet = try SampleSet(directory: Self.locate(set))
        let context = try await database.context()
        let chosen =
            databaseName ?? (context.isTarget ? context.defaultDatabase : nil) ?? sampleSet.manifest.database
            ?? context.defaultDatabase
        guard let name = chosen else {
            throw CLIError(message: "which database? pass --database NAME (the set names none)", exitCode: 2)
        }
        let force = self.force
        if context.isTarget && !force {
            let sessions = try await offCooperativePool { try context.otherSessions(on: name) }
            if !sessions.isEmpty {
                throw CLIError(
                    message:
                        "\(name) is in use by \(sessions.joined(separator: ", ")); nothing was written; stop those clients, or pass --force to seed alongside them (devenv never disconnects them)"
                )
            }
        }
        let started = Date()
        let report = try await runInterruptibly {
            try await offCooperativePool { try context.seed(sampleSet, into: name, force: force) }
        }
        switch report.outcome {
        case .alreadySeeded:
            print("\(name) already holds sample set \(report.set); nothing to do")
            return
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
        }
        // The rows are committed: a snapshot is a separate step, reported on its own.
        let snapshotName = snapshot ?? (context.isTarget || noSnapshot ? nil : DatabaseSnapshots.seededName)
        guard let snapshotName else { return }
        do {
            let taken = try await offCooperativePool {
                try DatabaseSnapshots(admin: context.admin).snapshot(database: name, name: snapshotName, force: false)
            }
            print("snapshot \(taken.name) of \(name) taken (\(Doctor.humanBytes(taken.sizeBytes)))")
            database.prepareSpareInBackground(database: name, snapshot: snapshotName)
        } catch {
            let reason = ErrorReport(error)?.line ?? "\(error)"
            printError(
                "devenv: seeded, but snapshot \(snapshotName) was not taken: \(reason); take it later with 'devenv db snapshot \(snapshotName) --database \(name)'"
            )
        }
    }

    /// A directory as given, or `sample-data/NAME` here.
    static func locate(_ set: String) -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: set, isDirectory: &isDirectory), isDirectory.boolValue { return set }
        return "sample-data/" + set
    }
}
