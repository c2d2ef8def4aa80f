extension Sequence where Element == UInt8 {
    /// Lowercase hexadecimal, two digits a byte: how devenv writes digests (config hashes, cache
    /// keys, manifest and policy hashes) and random tokens.
    public var hexadecimal: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
