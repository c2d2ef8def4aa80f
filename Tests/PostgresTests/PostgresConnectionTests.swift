import Foundation
import Testing

@testable import Postgres

/// Against a real PostgreSQL: `make test` starts a native one (Tests/scripts/native-postgres.sh)
/// and exports its URL as DEVENV_TEST_PG_URL.
enum TestServer {
    static func url() throws -> String {
        try #require(
            ProcessInfo.processInfo.environment["DEVENV_TEST_PG_URL"],
            "DEVENV_TEST_PG_URL is not set: run 'make test', or start Tests/scripts/native-postgres.sh and export its URL"
        )
    }

    static func connect() throws -> PostgresConnection {
        try PostgresConnection(url: url())
    }

    /// A fresh schema per test, so tests run in parallel without meeting.
    static func withSchema<T>(_ body: (PostgresConnection, String) throws -> T) throws -> T {
        let connection = try connect()
        let schema = "t_" + UUID().uuidString.prefix(8).lowercased()
        try connection.execute("CREATE SCHEMA \(schema)")
        defer { _ = try? connection.execute("DROP SCHEMA \(schema) CASCADE") }
        try connection.execute("SET search_path TO \(schema)")
        return try body(connection, schema)
    }
}

@Suite struct PostgresConnectionTests {
    @Test func connectsWithAURL() throws {
        let connection = try TestServer.connect()
        #expect(connection.serverVersion >= 150_000)
        #expect(connection.user == "postgres")
        #expect(try connection.execute("SELECT current_database()").scalar == "postgres")
    }

    @Test func connectsWithKeywordParameters() throws {
        let url = try #require(URLComponents(string: try TestServer.url()))
        let connection = try PostgresConnection(parameters: [
            "host": url.host ?? "127.0.0.1", "port": String(url.port ?? 5432), "user": url.user ?? "postgres",
            "password": url.password ?? "", "dbname": "postgres", "application_name": "devenv-keywords",
        ])
        #expect(try connection.execute("SHOW application_name").scalar == "devenv-keywords")
    }

    @Test func honoursLibpqEnvironmentVariables() throws {
        setenv("PGAPPNAME", "devenv-from-env", 1)
        defer { unsetenv("PGAPPNAME") }
        let connection = try TestServer.connect()
        #expect(try connection.execute("SHOW application_name").scalar == "devenv-from-env")
    }

    @Test func aWrongPasswordIsAConnectionError() throws {
        var url = try #require(URLComponents(string: try TestServer.url()))
        url.password = "wrong"
        let error = #expect(throws: PostgresError.self) { _ = try PostgresConnection(url: url.string!) }
        #expect(error?.code == .connection)
        #expect(error?.message.contains("password authentication failed") == true)
    }

    @Test func nothingListeningIsAConnectionError() {
        let error = #expect(throws: PostgresError.self) {
            _ = try PostgresConnection(url: "postgresql://x@127.0.0.1:1/postgres?connect_timeout=2")
        }
        #expect(error?.code == .connection)
    }

    @Test func parametersAreValuesNeverSQL() throws {
        try TestServer.withSchema { connection, _ in
            try connection.execute("CREATE TABLE notes (id int, body text)")
            let hostile = "'); DROP TABLE notes; --"
            try connection.execute("INSERT INTO notes VALUES ($1, $2)", ["1", hostile])
            try connection.execute("INSERT INTO notes VALUES ($1, $2)", ["2", nil])
            let rows = try connection.execute("SELECT id, body FROM notes ORDER BY id").rows
            #expect(rows == [["1", hostile], ["2", nil]])
        }
    }

    @Test func resultsCarryColumnsAndCounts() throws {
        try TestServer.withSchema { connection, _ in
            try connection.execute("CREATE TABLE t (a int, b text)")
            let insert = try connection.execute("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 5) g")
            #expect(insert.affectedRows == 5)
            #expect(insert.commandTag == "INSERT 0 5")
            let result = try connection.execute("SELECT a, b FROM t WHERE a > $1 ORDER BY a", ["3"])
            #expect(result.columns == ["a", "b"])
            #expect(result.records.map { $0["b"] ?? nil } == ["v4", "v5"])
        }
    }

    @Test(arguments: [
        ("SELECT * FROM no_such_table", "42P01"),
        ("SELEKT 1", "42601"),
        ("SELECT 1/0", "22012"),
    ])
    func failedStatementsCarrySQLSTATE(sql: String, state: String) throws {
        let connection = try TestServer.connect()
        let error = #expect(throws: PostgresError.self) { try connection.execute(sql) }
        #expect(error?.code == .query)
        #expect(error?.sqlState == state)
        // The connection stays usable after a failed statement.
        #expect(try connection.execute("SELECT 1").scalar == "1")
    }

    @Test func uniqueViolationHasDetail() throws {
        try TestServer.withSchema { connection, _ in
            try connection.execute("CREATE TABLE u (email text UNIQUE)")
            try connection.execute("INSERT INTO u VALUES ($1)", ["a@example.org"])
            let error = #expect(throws: PostgresError.self) {
                try connection.execute("INSERT INTO u VALUES ($1)", ["a@example.org"])
            }
            #expect(error?.sqlState == "23505")
            #expect(error?.detail?.contains("already exists") == true)
        }
    }

    @Test(arguments: [#"we"ird; DROP TABLE x; --"#, "with space", "ünïcode-名前", "Select"])
    func identifiersAreQuotedVerbatim(name: String) throws {
        try TestServer.withSchema { connection, schema in
            let quoted = try connection.quoteIdentifier(name)
            try connection.execute("CREATE TABLE \(quoted) (id int)")
            let found = try connection.execute(
                "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE nspname = $1",
                [schema]
            ).rows.compactMap { $0[0] }
            #expect(found == [name])
        }
    }

    @Test func emptyIdentifiersAreRefused() throws {
        let connection = try TestServer.connect()
        #expect(throws: PostgresError.self) { _ = try connection.quoteIdentifier("") }
    }

    @Test func literalsAreQuoted() throws {
        let connection = try TestServer.connect()
        let quoted = try connection.quoteLiteral("it's \\ here")
        #expect(try connection.execute("SELECT \(quoted)").scalar == "it's \\ here")
    }
}

@Suite struct PostgresCopyTests {
    static let rowCount = 300_000

    @Test func copiesHundredsOfThousandsOfRowsInAndOut() throws {
        try TestServer.withSchema { connection, _ in
            try connection.execute("CREATE TABLE runs (id bigint PRIMARY KEY, name text, note text)")
            var expected = 0
            let copied = try connection.copyIn("COPY runs (id, name, note) FROM STDIN") { write in
                var chunk = Data()
                chunk.reserveCapacity(1 << 20)
                for id in 1...Self.rowCount {
                    chunk.append(contentsOf: "\(id)\trun-\(id)\t\(id % 7 == 0 ? "\\N" : "tab\\there")\n".utf8)
                    expected += id
                    if chunk.count >= 1 << 20 {
                        try write(chunk)
                        chunk.removeAll(keepingCapacity: true)
                    }
                }
                try write(chunk)
            }
            #expect(copied == Self.rowCount)
            let sums = try connection.execute("SELECT count(*), sum(id), count(note) FROM runs").rows[0]
            #expect(sums[0] == String(Self.rowCount))
            #expect(sums[1] == String(expected))
            #expect(sums[2] == String(Self.rowCount - Self.rowCount / 7))

            var bytes = 0
            var lines = 0
            let out = try connection.copyOut("COPY (SELECT * FROM runs ORDER BY id) TO STDOUT") { row in
                bytes += row.count
                lines += row.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
            }
            #expect(out == Self.rowCount)
            #expect(lines == Self.rowCount)
            #expect(bytes > Self.rowCount * 10)
        }
    }

    @Test func anAbortedCopyLoadsNothing() throws {
        struct Stop: Error {}
        try TestServer.withSchema { connection, _ in
            try connection.execute("CREATE TABLE t (id int)")
            #expect(throws: Stop.self) {
                try connection.copyIn("COPY t FROM STDIN") { write in
                    try write(Data("1\n2\n".utf8))
                    throw Stop()
                }
            }
            #expect(try connection.execute("SELECT count(*) FROM t").scalar == "0")
        }
    }

    @Test func badCopyDataReportsSQLSTATE() throws {
        try TestServer.withSchema { connection, _ in
            try connection.execute("CREATE TABLE t (id int)")
            let error = #expect(throws: PostgresError.self) {
                try connection.copyIn("COPY t FROM STDIN") { write in try write(Data("1\nnot-a-number\n".utf8)) }
            }
            #expect(error?.sqlState == "22P02")
            #expect(try connection.execute("SELECT count(*) FROM t").scalar == "0")
        }
    }

    @Test func stoppingACopyOutEarlyLeavesTheConnectionUsable() throws {
        struct Enough: Error {}
        let connection = try TestServer.connect()
        var seen = 0
        #expect(throws: Enough.self) {
            try connection.copyOut("COPY (SELECT g FROM generate_series(1, 1000000) g) TO STDOUT") { _ in
                seen += 1
                if seen == 10 { throw Enough() }
            }
        }
        #expect(try connection.execute("SELECT 42").scalar == "42")
    }
}
