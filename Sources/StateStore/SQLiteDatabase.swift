import CSQLite3
import Foundation

/// A failure of the state store: what devenv was doing, SQLite's message and result code.
public struct StateStoreError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case open, query, migration, permissions
    }
    public var code: Code
    public var message: String
    /// SQLite's (extended) result code.
    public var sqliteCode: Int32?

    public init(_ code: Code, _ message: String, sqliteCode: Int32? = nil) {
        self.code = code
        self.message = message
        self.sqliteCode = sqliteCode
    }

    public var description: String { message }
}

/// A value bound to or read from a statement.
public enum SQLiteValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)

    public var text: String? { if case .text(let value) = self { value } else { nil } }
    public var integer: Int64? { if case .integer(let value) = self { value } else { nil } }
}

/// A thin libsqlite3 wrapper: one connection, prepared statements, transactions.
/// Not thread-safe by itself; `StateStore` serializes access.
public final class SQLiteDatabase {
    private var handle: OpaquePointer?
    public let path: String
    /// Set on a database opened read-only because it could not be opened for writing: what a
    /// write then fails with (the original reason, not "readonly database").
    public var writeRefusal: StateStoreError?

    /// How a database is opened.
    public enum Access: Sendable {
        /// Read and write, creating the file if needed.
        case readWrite
        /// Read only, sharing the WAL with writers (needs its `-shm` file, or room to make it).
        case readOnly
        /// Read only, as if nothing else could change the file: works on a full or read-only
        /// filesystem, but does not see a WAL that was never checkpointed.
        case immutable
    }

    /// Opens the database at `path` (creating it for `.readWrite`).
    public init(path: String, access: Access = .readWrite, busyTimeout milliseconds: Int32 = 10_000) throws {
        self.path = path
        let flags: Int32
        let name: String
        switch access {
        case .readWrite:
            flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX
            name = path
        case .readOnly, .immutable:
            flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_FULLMUTEX
            let escaped = path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path
            name = "file:\(escaped)?" + (access == .immutable ? "immutable=1" : "mode=ro")
        }
        let status = sqlite3_open_v2(name, &handle, flags, nil)
        guard status == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(handle)
            handle = nil
            throw Self.failure(.open, path: path, message, status: status)
        }
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, milliseconds)
    }

    /// Whether the filesystem under the file is the cause (full, read-only, unwritable).
    public static func isStorageFailure(_ error: StateStoreError) -> Bool {
        if error.code == .permissions { return true }
        guard let status = error.sqliteCode else { return false }
        return [SQLITE_FULL, SQLITE_IOERR, SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_PERM].contains(status & 0xff)
    }

    private func refusal(_ status: Int32, _ message: String, _ code: StateStoreError.Code) -> StateStoreError {
        if status & 0xff == SQLITE_READONLY, let writeRefusal { return writeRefusal }
        return Self.failure(code, path: path, message, status: status)
    }

    /// An error naming the file and, where the cause is the filesystem, the next step.
    static func failure(_ code: StateStoreError.Code, path: String, _ message: String, status: Int32) -> StateStoreError
    {
        let next: String
        switch status & 0xff {
        case SQLITE_FULL, SQLITE_IOERR:
            next =
                "; free space on the filesystem that holds it (or point XDG_STATE_HOME at another directory),"
                + " then run the command again"
        case SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_PERM:
            next = "; make it and its directory writable (or point XDG_STATE_HOME at another directory)"
        case SQLITE_CORRUPT, SQLITE_NOTADB:
            next = "; move it aside to start afresh (generated passwords in it are lost)"
        default:
            next = ""
        }
        return StateStoreError(code, "state store \(path): \(message)\(next)", sqliteCode: status)
    }

    deinit { sqlite3_close_v2(handle) }

    /// SQLite's library version, for `devenv doctor`.
    public static var libraryVersion: String { String(cString: sqlite3_libversion()) }

    /// Runs SQL text without parameters (several statements allowed).
    public func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(handle, sql, nil, nil, &error)
        if status != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? lastMessage
            sqlite3_free(error)
            throw refusal(status, message, .query)
        }
    }

    /// Runs one statement with `?` parameters and returns every row.
    @discardableResult
    public func query(_ sql: String, _ parameters: [SQLiteValue] = []) throws -> [[SQLiteValue]] {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK else {
            throw refusal(sqlite3_errcode(handle), lastMessage, .query)
        }
        defer { sqlite3_finalize(statement) }
        for (offset, value) in parameters.enumerated() {
            let index = Int32(offset + 1)
            let status: Int32
            switch value {
            case .null: status = sqlite3_bind_null(statement, index)
            case .integer(let v): status = sqlite3_bind_int64(statement, index, v)
            case .real(let v): status = sqlite3_bind_double(statement, index, v)
            case .text(let v): status = devenv_sqlite3_bind_text_transient(statement, index, v, -1)
            case .blob(let v):
                status = v.withUnsafeBytes {
                    devenv_sqlite3_bind_blob_transient(statement, index, $0.baseAddress, Int32(v.count))
                }
            }
            guard status == SQLITE_OK else {
                throw refusal(status, lastMessage, .query)
            }
        }
        var rows: [[SQLiteValue]] = []
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { break }
            guard status == SQLITE_ROW else {
                throw refusal(status, lastMessage, .query)
            }
            rows.append((0..<sqlite3_column_count(statement)).map { column(statement, $0) })
        }
        return rows
    }

    private func column(_ statement: OpaquePointer?, _ index: Int32) -> SQLiteValue {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, index))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, index))
        case SQLITE_TEXT: return .text(String(cString: sqlite3_column_text(statement, index)))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, index))
            guard count > 0, let bytes = sqlite3_column_blob(statement, index) else { return .blob(Data()) }
            return .blob(Data(bytes: bytes, count: count))
        default: return .null
        }
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction: the write lock is taken up front, so two
    /// processes never both read-then-write and deadlock; the busy timeout makes the second wait.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    public var changes: Int { Int(sqlite3_changes(handle)) }

    private var lastMessage: String { String(cString: sqlite3_errmsg(handle)) }
}
