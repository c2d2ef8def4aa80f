import Foundation

/// Finds host ports that are already taken, before anything starts, and who holds them.
public enum PortCheck {
    /// Whether `port` can be bound on `hostIP` right now (TCP or UDP).
    public static func isFree(hostIP: String, port: Int, protocol proto: String) -> Bool {
        let udp = proto == "udp"
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE
        hints.ai_socktype = Int32(udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue)
        var info: UnsafeMutablePointer<addrinfo>?
        let host = hostIP.isEmpty ? "0.0.0.0" : hostIP
        guard getaddrinfo(host, String(port), &hints, &info) == 0, let address = info else { return true }
        defer { freeaddrinfo(info) }
        let fd = socket(address.pointee.ai_family, address.pointee.ai_socktype, 0)
        guard fd >= 0 else { return true }
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        return bind(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0
    }

    /// The process listening on TCP `port` (from /proc), as `name (pid N)`, where it can be seen.
    public static func holder(ofTCPPort port: Int) -> String? {
        var inodes: Set<String> = []
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard fields.count > 9, fields[3] == "0A",  // LISTEN
                    let portHex = fields[1].split(separator: ":").last, Int(portHex, radix: 16) == port
                else { continue }
                inodes.insert(String(fields[9]))
            }
        }
        guard !inodes.isEmpty, let pids = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else {
            return nil
        }
        for pid in pids where Int(pid) != nil {
            guard let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd") else { continue }
            for fd in fds {
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)"),
                    target.hasPrefix("socket:["), inodes.contains(String(target.dropFirst(8).dropLast()))
                else { continue }
                let name =
                    (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
                return "\(name) (pid \(pid))"
            }
        }
        return nil
    }
}
