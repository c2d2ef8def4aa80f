import DevEnvModel
import Foundation
import Platform

/// Finds host ports that are already taken, before anything starts, and who holds them.
public enum PortCheck {
    /// Whether `port` can be bound on `hostIP` right now (TCP or UDP).
    public static func isFree(hostIP: String, port: Int, protocol proto: String) -> Bool {
        Sockets.canBind(hostIP: hostIP, port: port, udp: proto == "udp")
    }

    /// The process listening on TCP `port`, as `name (pid N)`, where it can be seen.
    public static func holder(ofTCPPort port: Int) -> String? {
        Processes.listener(ofTCPPort: port)
    }
}
