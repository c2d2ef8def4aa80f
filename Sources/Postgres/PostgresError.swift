/// A PostgreSQL failure: what devenv was doing, the server's message, and its SQLSTATE.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// Could not connect or authenticate.
        case connection
        /// A statement failed on the server (see `sqlState`).
        case query
        /// A COPY failed in the middle.
        case copy
        /// devenv was asked something it refuses to do (e.g. an empty identifier).
        case invalidArgument
    }

    public var code: Code
    public var message: String
    /// Five-character SQLSTATE, e.g. `42P01` (undefined table), `23505` (unique violation).
    public var sqlState: String?
    public var detail: String?
    public var hint: String?

    public init(_ code: Code, _ message: String, sqlState: String? = nil, detail: String? = nil, hint: String? = nil) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
    }

    public var description: String {
        var text = message
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        return text
    }
}
