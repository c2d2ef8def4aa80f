import DevEnvModel
import Foundation
import Testing

@testable import DevEnvOrchestration

/// `up` creates and starts a few containers at once, the services others wait for first
/// (issue #19: the full DIALS stack's leaf workers no longer delay its nginx and frontend).
@Suite struct StartSlotsTests {
    @Test func theMostUrgentWaiterGetsTheNextSlot() async throws {
        let slots = StartSlots(1)
        await slots.acquire(priority: 0)
        let served = Served()
        var tasks: [Task<Void, Never>] = []
        for (index, priority) in [0, 3, 1, 3].enumerated() {
            tasks.append(
                Task {
                    await slots.acquire(priority: priority)
                    await served.add(index)
                    await slots.release()
                })
            // Queued in this order (first come breaks a tie).
            while await slots.waitingCount < index + 1 { try await Task.sleep(for: .milliseconds(5)) }
        }
        await slots.release()
        for task in tasks { await task.value }
        #expect(await served.order == [1, 3, 2, 0])
    }

    @Test func servicesWithMoreDependentsAndAHealthcheckComeFirst() throws {
        let directory = NSTemporaryDirectory() + "devenv-slots-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try """
        services:
          db: { image: postgres:15, healthcheck: { test: ["CMD", "true"] } }
          backend: { image: app, depends_on: [db], healthcheck: { test: ["CMD", "true"] } }
          nginx: { image: nginx, depends_on: [backend], healthcheck: { test: ["CMD", "true"] } }
          frontend: { image: nginx, depends_on: [nginx], healthcheck: { test: ["CMD", "true"] } }
          worker: { image: app, depends_on: [backend] }
        """.write(toFile: directory + "/compose.yaml", atomically: true, encoding: .utf8)
        let stack = try StackLoader.load(StackLoadOptions(files: [], workingDirectory: directory)).stack
        let priorities = StartSlots.priorities(of: stack.services)
        #expect(priorities == ["db": 9, "backend": 7, "nginx": 3, "frontend": 1, "worker": 0])
    }
}

private actor Served {
    var order: [Int] = []
    func add(_ index: Int) { order.append(index) }
}
