import Crypto
import DevEnvModel
import DevEnvRuntime
import Foundation

/// A stored SCRAM-SHA-256 password (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`,
/// as `pg_authid.rolpassword` holds it), checked against a password here, without logging in:
/// a login attempt with a wrong password is a "password authentication failed" line in the
/// server's log, and managed servers alert on those.
struct ScramVerifier: Equatable {
    let iterations: Int
    let salt: Data
    let storedKey: Data
    let serverKey: Data

    init?(_ text: String) {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "SCRAM-SHA-256" else { return nil }
        let head = parts[1].split(separator: ":")
        let keys = parts[2].split(separator: ":")
        guard head.count == 2, keys.count == 2, let iterations = Int(head[0]), iterations > 0,
            let salt = Data(base64Encoded: String(head[1])), let stored = Data(base64Encoded: String(keys[0])),
            let server = Data(base64Encoded: String(keys[1]))
        else { return nil }
        self.iterations = iterations
        self.salt = salt
        storedKey = stored
        serverKey = server
    }

    /// Whether `password` is the one this verifier was made from; nil when it cannot tell
    /// (PostgreSQL normalizes non-ASCII passwords with SASLprep, which is not done here).
    func matches(_ password: String) -> Bool? {
        guard password.unicodeScalars.allSatisfy(\.isASCII) else { return nil }
        let key = SymmetricKey(data: Data(password.utf8))
        // Hi(password, salt, i) of RFC 5802: PBKDF2 with HMAC-SHA-256, one block.
        var block = Data(HMAC<SHA256>.authenticationCode(for: salt + Data([0, 0, 0, 1]), using: key))
        var salted = block
        for _ in 1..<iterations {
            block = Data(HMAC<SHA256>.authenticationCode(for: block, using: key))
            for index in salted.indices { salted[index] ^= block[index] }
        }
        let saltedKey = SymmetricKey(data: salted)
        let clientKey = Data(HMAC<SHA256>.authenticationCode(for: Data("Client Key".utf8), using: saltedKey))
        let stored = Data(SHA256.hash(data: clientKey))
        let server = Data(HMAC<SHA256>.authenticationCode(for: Data("Server Key".utf8), using: saltedKey))
        return stored == storedKey && server == serverKey
    }
}
