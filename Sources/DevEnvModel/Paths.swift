/// Path text handled as text: never through the file system of the machine devenv runs on.
public enum Paths {
    /// `path` without empty and `.` components and with `..` applied, as Compose does.
    /// Symbolic links stay as written (Foundation's `standardizingPath` follows some of them,
    /// which turned `/var/run/docker.sock` into this machine's `/run/docker.sock`: a different
    /// path on an engine in a VM or on another host).
    public static func lexical(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..":
                if let last = parts.last, last != ".." {
                    parts.removeLast()
                } else if !absolute {
                    parts.append(part)
                }
            default: parts.append(part)
            }
        }
        let joined = parts.joined(separator: "/")
        return absolute ? "/" + joined : joined
    }
}
