import CLibPQ
import Foundation

/// One libpq connection. Calls block: use it from a thread of its own (devenv's modules call
/// it through `offCooperativePool`), never directly from Swift's cooperative pool.
public final class PostgresConnection {
    private var handle: OpaquePointer?

    /// Connects with a `postgresql://` URL or a `key=value` string; empty means "all from
    /// the libpq environment" (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`…).
    public convenience init(url: String) throws {
        try self.init(parameters: ["dbname": url], expandDatabaseName: true)
    }

    /// Connects with keyword parameters (`host`, `port`, `user`, `password`, `dbname`,
    /// `connect_timeout`…); anything not given comes from the libpq environment.
    public init(parameters: [String: String], expandDatabaseName: Bool = false) throws {
        let pairs = parameters.sorted { $0.key < $1.key }
        handle = withCStrings(pairs.map(\.key)) { keys in
            withCStrings(pairs.map(\.value)) { values in
                PQconnectdbParams(keys, values, expandDatabaseName ? 1 : 0)
            }
        }
        guard let handle, PQstatus(handle) == CONNECTION_OK else {
            let message = handle.map { Self.lastMessage($0) } ?? "out of memory"
            PQfinish(handle)  // also after a failed connect
            self.handle = nil
            throw PostgresError(.connection, "cannot connect to postgresql: \(message)")
        }
        // libpq prints server NOTICEs to stderr by default; devenv's output is its own.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
    }

    deinit { PQfinish(handle) }

    /// Closes the connection now; further calls fail.
    public func close() {
        PQfinish(handle)
        handle = nil
    }

    private func live() throws -> OpaquePointer {
        guard let handle else { throw PostgresError(.connection, "the postgresql connection is closed") }
        return handle
    }

    /// Server version as an integer (`150018` for 15.18).
    public var serverVersion: Int { handle.map { Int(PQserverVersion($0)) } ?? 0 }
    /// The libpq the process links, as an integer (`150018`).
    public static var libraryVersion: Int { Int(PQlibVersion()) }
    public var database: String { handle.flatMap { PQdb($0) }.map { String(cString: $0) } ?? "" }
    public var user: String { handle.flatMap { PQuser($0) }.map { String(cString: $0) } ?? "" }

    // MARK: statements

    /// Runs one statement with `$1…$n` parameters sent separately from the SQL text.
    /// `nil` parameters are SQL NULL.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?] = []) throws -> QueryResult {
        let handle = try live()
        let result = withOptionalCStrings(parameters) { values in
            PQexecParams(handle, sql, Int32(parameters.count), nil, values, nil, nil, 0)
        }
        return try QueryResult(consuming: result, connection: handle, expected: [PGRES_COMMAND_OK, PGRES_TUPLES_OK])
    }

    /// Runs SQL text with no parameters; several statements separated by `;` are allowed.
    public func executeScript(_ sql: String) throws {
        let handle = try live()
        _ = try QueryResult(
            consuming: PQexec(handle, sql), connection: handle, expected: [PGRES_COMMAND_OK, PGRES_TUPLES_OK])
    }

    /// Quotes an identifier with `PQescapeIdentifier`, so a name with quotes, semicolons or
    /// spaces is used verbatim, never read as SQL.
    public func quoteIdentifier(_ name: String) throws -> String {
        guard !name.isEmpty, !name.utf8.contains(0) else {
            throw PostgresError(.invalidArgument, "an identifier must be non-empty and contain no NUL byte")
        }
        return try escape(name, what: "identifier", with: PQescapeIdentifier)
    }

    /// Quotes a string literal with `PQescapeLiteral` (for the few statements, such as
    /// `CREATE ROLE … PASSWORD`, that take no parameters).
    public func quoteLiteral(_ value: String) throws -> String {
        try escape(value, what: "literal", with: PQescapeLiteral)
    }

    private func escape(
        _ value: String, what: String,
        with escaper: (OpaquePointer?, UnsafePointer<CChar>?, Int) -> UnsafeMutablePointer<CChar>?
    ) throws -> String {
        let handle = try live()
        let utf8 = Array(value.utf8)
        let escaped = utf8.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { escaper(handle, $0.baseAddress, buffer.count) }
        }
        guard let escaped else {
            throw PostgresError(.invalidArgument, "cannot quote \(what): \(Self.lastMessage(handle))")
        }
        defer { PQfreemem(escaped) }
        return String(cString: escaped)
    }

    /// The SCRAM-SHA-256 verifier of `password` for `user`, computed here with
    /// `PQencryptPasswordConn`, so `ALTER ROLE … PASSWORD` never carries the clear text.
    public func encryptPassword(_ password: String, user: String) throws -> String {
        let handle = try live()
        guard let encrypted = PQencryptPasswordConn(handle, password, user, "scram-sha-256") else {
            throw PostgresError(.query, "cannot encrypt a password: \(Self.lastMessage(handle))")
        }
        defer { PQfreemem(encrypted) }
        return String(cString: encrypted)
    }

    // MARK: COPY

    /// `COPY … FROM STDIN`: `produce` is called with a `write` function until it returns;
    /// the data goes to the server in the chunks given. Returns the rows copied.
    /// If `produce` throws, the COPY is aborted and nothing is loaded.
    @discardableResult
    public func copyIn(_ sql: String, produce: (_ write: (Data) throws -> Void) throws -> Void) throws -> Int {
        let handle = try live()
        _ = try QueryResult(consuming: PQexec(handle, sql), connection: handle, expected: [PGRES_COPY_IN])
        do {
            try produce { chunk in
                guard !chunk.isEmpty else { return }
                let status = chunk.withUnsafeBytes { raw in
                    PQputCopyData(handle, raw.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(chunk.count))
                }
                if status != 1 {
                    throw PostgresError(.copy, "COPY to the server failed: \(Self.lastMessage(handle))")
                }
            }
        } catch {
            PQputCopyEnd(handle, "devenv aborted the COPY: \(error)")
            drainResults(handle)
            throw error
        }
        guard PQputCopyEnd(handle, nil) == 1 else {
            throw PostgresError(.copy, "ending COPY failed: \(Self.lastMessage(handle))")
        }
        return try finishCopy(handle)
    }

    /// `COPY … TO STDOUT`: every row arrives in `consume` as the server sends it
    /// (one row per call in text format), in libpq's own buffer, valid for the call only.
    /// Returns the rows copied.
    @discardableResult
    public func copyOut(_ sql: String, consume: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        let handle = try live()
        _ = try QueryResult(consuming: PQexec(handle, sql), connection: handle, expected: [PGRES_COPY_OUT])
        var buffer: UnsafeMutablePointer<CChar>?
        while true {
            let length = PQgetCopyData(handle, &buffer, 0)
            if length > 0, let bytes = buffer {
                // libpq's buffer, lent to the consumer without a copy and freed right after.
                defer { PQfreemem(bytes) }
                do {
                    try consume(UnsafeRawBufferPointer(start: bytes, count: Int(length)))
                } catch {
                    // Leave the connection usable: cancel the COPY and drain its results.
                    let cancel = PQgetCancel(handle)
                    var errbuf = [CChar](repeating: 0, count: 256)
                    _ = PQcancel(cancel, &errbuf, 256)
                    PQfreeCancel(cancel)
                    while PQgetCopyData(handle, &buffer, 0) > 0 { PQfreemem(buffer) }
                    drainResults(handle)
                    throw error
                }
            } else if length == -1 {
                break
            } else {
                throw PostgresError(.copy, "COPY from the server failed: \(Self.lastMessage(handle))")
            }
        }
        return try finishCopy(handle)
    }

    private func finishCopy(_ handle: OpaquePointer) throws -> Int {
        var rows = 0
        var failure: PostgresError?
        while let result = PQgetResult(handle) {
            defer { PQclear(result) }
            if PQresultStatus(result) == PGRES_COMMAND_OK {
                rows = Int(String(cString: PQcmdTuples(result))) ?? 0
            } else if failure == nil {
                failure = QueryResult.error(from: result, connection: handle, code: .copy)
            }
        }
        if let failure { throw failure }
        return rows
    }

    private func drainResults(_ handle: OpaquePointer) {
        while let result = PQgetResult(handle) { PQclear(result) }
    }

    static func lastMessage(_ handle: OpaquePointer) -> String {
        String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// A finished statement's rows, copied out of libpq (the `PGresult` is cleared at once).
public struct QueryResult: Sendable {
    public let columns: [String]
    public let rows: [[String?]]
    /// Rows affected, from the command tag (`INSERT 0 5` → 5).
    public let affectedRows: Int
    public let commandTag: String

    init(consuming result: OpaquePointer?, connection: OpaquePointer, expected: [ExecStatusType]) throws {
        guard let result else {
            throw PostgresError(.query, PostgresConnection.lastMessage(connection))
        }
        defer { PQclear(result) }
        guard expected.contains(PQresultStatus(result)) else {
            throw Self.error(from: result, connection: connection, code: .query)
        }
        let columnCount = Int(PQnfields(result))
        // COPY results report columns but no names.
        columns = (0..<columnCount).map { PQfname(result, Int32($0)).map { String(cString: $0) } ?? "" }
        rows = (0..<Int(PQntuples(result))).map { row in
            (0..<columnCount).map { column in
                PQgetisnull(result, Int32(row), Int32(column)) == 1
                    ? nil : String(cString: PQgetvalue(result, Int32(row), Int32(column)))
            }
        }
        commandTag = String(cString: PQcmdStatus(result))
        affectedRows = Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    static func error(from result: OpaquePointer, connection: OpaquePointer, code: PostgresError.Code) -> PostgresError
    {
        func field(_ name: Int32) -> String? {
            PQresultErrorField(result, name).map { String(cString: $0) }
        }
        let primary =
            field(Int32(UInt8(ascii: "M")))  // PG_DIAG_MESSAGE_PRIMARY
            ?? PostgresConnection.lastMessage(connection)
        return PostgresError(
            code, primary, sqlState: field(Int32(UInt8(ascii: "C"))),  // PG_DIAG_SQLSTATE
            detail: field(Int32(UInt8(ascii: "D"))), hint: field(Int32(UInt8(ascii: "H"))))
    }

    /// The first column of the first row.
    public var scalar: String? { rows.first?.first ?? nil }

    /// Rows as dictionaries keyed by column name.
    public var records: [[String: String?]] {
        rows.map { Dictionary(uniqueKeysWithValues: zip(columns, $0)) }
    }
}

/// Calls `body` with a C array of C strings that lives for the call.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    withOptionalCStrings(strings.map(Optional.some)) { pointer in
        body(pointer!)
    }
}

/// As `withCStrings`, with `nil` entries passed as NULL pointers (SQL NULL parameters),
/// and a trailing NULL terminator.
func withOptionalCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    let duplicated: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0) } } + [nil]
    defer { duplicated.forEach { free($0) } }
    return duplicated.map { UnsafePointer($0) }.withUnsafeBufferPointer { body($0.baseAddress) }
}

/// What `PQpingParams` says about a server, without logging in.
public enum PostgresPing: Sendable, Equatable {
    /// Accepting connections.
    case ok
    /// Up but refusing connections (starting up, shutting down, too many clients).
    case rejecting
    /// Nothing answered.
    case noResponse
    /// The parameters were unusable.
    case noAttempt

    /// Pings the server described by libpq keyword parameters.
    public static func check(parameters: [String: String]) -> PostgresPing {
        let pairs = parameters.sorted { $0.key < $1.key }
        let status = withCStrings(pairs.map(\.key)) { keys in
            withCStrings(pairs.map(\.value)) { values in PQpingParams(keys, values, 0) }
        }
        switch status {
        case PQPING_OK: return .ok
        case PQPING_REJECT: return .rejecting
        case PQPING_NO_RESPONSE: return .noResponse
        default: return .noAttempt
        }
    }
}
