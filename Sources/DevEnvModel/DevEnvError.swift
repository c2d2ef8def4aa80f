/// The one error type of devenv's core (stack, provisioning, samples, orchestration, render):
/// what went wrong in one line that names the next step, what kind of failure it is, what
/// caused it, and the exit code the CLI gives it.
public struct DevEnvError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// What the user asked cannot be done as asked (an unknown service, a bad option or file).
        case usage
        /// Something failed on the way (an engine, a server, a file, the state store).
        case failure
    }

    public var code: Code
    public var message: String
    /// The lower-level error this one explains, if any.
    public var cause: (any Error & Sendable)?

    /// 2 for `usage`, 1 otherwise.
    public var exitCode: Int32 { code == .usage ? 2 : 1 }

    public init(_ message: String, exitCode: Int32 = 1, cause: (any Error & Sendable)? = nil) {
        self.message = message
        self.code = exitCode == 2 ? .usage : .failure
        self.cause = cause
    }

    public var description: String { message }
}
