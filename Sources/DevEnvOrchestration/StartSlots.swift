import DevEnvModel
import DevEnvRuntime
import Foundation

/// How many containers `up` creates and starts at once, and which go first. On a small
/// machine an engine asked to start many containers together starts each slowly (they share
/// its lock, the cores and the network setup), and a service others wait for would start as
/// late as the last leaf: a few slots, given first to the services with the most (transitive)
/// dependents, keep the critical path short. Waiting for readiness takes no slot.
actor StartSlots {
    private var free: Int
    private var waiting: [(priority: Int, order: Int, continuation: CheckedContinuation<Void, Never>)] = []
    private var order = 0

    init(_ count: Int) { free = max(1, count) }

    /// Waits for a slot; a higher `priority` is served first, then first come.
    func acquire(priority: Int) async {
        if free > 0 {
            free -= 1
            return
        }
        order += 1
        let ticket = order
        await withCheckedContinuation { continuation in
            waiting.append((priority, ticket, continuation))
        }
    }

    var waitingCount: Int { waiting.count }

    /// Hands the slot to the most urgent waiter, or frees it.
    func release() {
        guard
            let next = waiting.indices.min(by: {
                (-waiting[$0].priority, waiting[$0].order) < (-waiting[$1].priority, waiting[$1].order)
            })
        else {
            free += 1
            return
        }
        waiting.remove(at: next).continuation.resume()
    }

    /// Each service's place in the queue: twice the services that depend on it, directly or
    /// through others, and one more when `up` then waits for its healthcheck (which starts
    /// counting at the start), before those that only settle.
    static func priorities(of services: [Service]) -> [String: Int] {
        let counts = dependents(in: services)
        var priorities: [String: Int] = [:]
        for service in services {
            let checked = service.healthcheck.map { !$0.disabled } ?? false
            priorities[service.name] = 2 * (counts[service.name] ?? 0) + (checked ? 1 : 0)
        }
        return priorities
    }

    /// How many services depend on each, directly or through others.
    static func dependents(in services: [Service]) -> [String: Int] {
        var direct: [String: Set<String>] = [:]
        for service in services {
            for dependency in service.dependsOn { direct[dependency.service, default: []].insert(service.name) }
        }
        var counts: [String: Int] = [:]
        for service in services {
            var seen: Set<String> = []
            var frontier = Array(direct[service.name] ?? [])
            while let next = frontier.popLast() {
                if seen.insert(next).inserted { frontier.append(contentsOf: direct[next] ?? []) }
            }
            counts[service.name] = seen.count
        }
        return counts
    }
}
