import ArgumentParser
import DevEnvCore
import Foundation

struct DB: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Snapshots of databases as template databases: take, restore, reset, list.",
        subcommands: [
            Snapshot.self, Restore.self, Reset.self, Snapshots.self, PrepareSpare.self, PrepareInitCache.self,
        ])

    struct Snapshot: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take (or replace) snapshot NAME of a database, or drop one ('db snapshot drop NAME').",
            subcommands: [Take.self, Drop.self], defaultSubcommand: Take.self)

        struct Take: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract:
                    "Take (or replace) snapshot NAME; refuses while other clients use the database unless --force.")
            @OptionGroup var database: DatabaseOptions
            @Argument var name: String
            @Option(name: .customLong("database"), help: "The database (default: the stack's first, or --target's).")
            var databaseName: String?
            @Flag(help: "Disconnect the database's other clients (a copy needs the database to itself).") var force =
                false

            func run() async throws {
                let context = try await database.context()
                let target = try context.database(named: databaseName)
                let (name, force) = (self.name, self.force)
                let snapshot = try await offCooperativePool {
                    try DatabaseSnapshots(admin: context.admin).snapshot(database: target, name: name, force: force)
                }
                print(
                    "snapshot \(snapshot.name) of \(snapshot.database) taken (\(Doctor.humanBytes(snapshot.sizeBytes)))"
                )
            }
        }

        struct Drop: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Remove snapshot NAME of a database and its spare copy from the server.")
            @OptionGroup var database: DatabaseOptions
            @Argument var name: String
            @Option(name: .customLong("database"), help: "The database (default: the stack's first, or --target's).")
            var databaseName: String?

            func run() async throws {
                let context = try await database.context()
                let target = try context.database(named: databaseName)
                let name = self.name
                let found = try await offCooperativePool {
                    try DatabaseSnapshots(admin: context.admin).dropSnapshot(database: target, name: name)
                }
                guard found else {
                    throw CLIError(message: "\(target) has no snapshot '\(name)'; 'devenv db snapshots' lists them")
                }
                print("dropped snapshot \(name) of \(target)")
            }
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put snapshot NAME back in place of the database; refuses while clients use it unless --force.")
        @OptionGroup var database: DatabaseOptions
        @Argument var name: String
        @Option(name: .customLong("database"), help: "The database (default: the stack's first).") var databaseName:
            String?
        @Flag(help: "Disconnect the database's clients.") var force = false

        func run() async throws {
            let context = try await database.context()
            let target = try context.database(named: databaseName)
            let (name, force) = (self.name, self.force)
            let started = Date()
            try await offCooperativePool {
                try DatabaseSnapshots(admin: context.admin).restore(
                    database: target, name: name, force: force, deferDrop: DatabaseOptions.backgroundWork)
            }
            print(
                String(format: "restored %@ from snapshot %@ in %.2fs", target, name, Date().timeIntervalSince(started))
            )
            database.prepareSpareInBackground(database: target, snapshot: name)
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Return a database to its last seeded state (the snapshot 'seed' takes).")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The database (default: the stack's first).") var databaseName: String?
        @Flag(help: "Disconnect the database's clients.") var force = false

        func run() async throws {
            let context = try await database.context()
            let target = try context.database(named: databaseName)
            let force = self.force
            let started = Date()
            try await offCooperativePool {
                try DatabaseSnapshots(admin: context.admin).restore(
                    database: target, name: DatabaseSnapshots.seededName, force: force,
                    deferDrop: DatabaseOptions.backgroundWork)
            }
            print(String(format: "reset %@ to its seeded state in %.2fs", target, Date().timeIntervalSince(started)))
            database.prepareSpareInBackground(database: target, snapshot: DatabaseSnapshots.seededName)
        }
    }

    /// Run in the background after a seed, restore or reset: makes the spare copy the next
    /// restore of that snapshot renames into place.
    struct PrepareSpare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "prepare-spare", abstract: "Make the spare copy of a snapshot (run by devenv itself).",
            shouldDisplay: false)
        @OptionGroup var database: DatabaseOptions
        @Argument var databaseName: String
        @Argument var name: String

        func run() async throws {
            let context = try await database.context()
            let (target, name) = (databaseName, self.name)
            _ = try await offCooperativePool {
                try DatabaseSnapshots(admin: context.admin).prepareSpare(database: target, name: name)
            }
        }
    }

    struct Snapshots: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the snapshots on the server (each a copy of its database) and their spare copies.")
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let context = try await database.context()
            let snapshots = try await offCooperativePool { try DatabaseSnapshots(admin: context.admin).list() }
            let output = Output(json: json)
            if json {
                try output.printJSON(snapshots)
            } else {
                output.printTable(
                    ["DATABASE", "SNAPSHOT", "SIZE", "SPARE COPY", "TAKEN"],
                    snapshots.map {
                        [
                            $0.database, $0.name, Doctor.humanBytes($0.sizeBytes),
                            $0.spareSizeBytes.map(Doctor.humanBytes) ?? "-", $0.created,
                        ]
                    })
            }
        }
    }
}
