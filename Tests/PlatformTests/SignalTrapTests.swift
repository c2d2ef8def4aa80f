import Foundation
import Testing

@testable import Platform

/// A trap set after another was cancelled still hears its signal (the second Ctrl-C-able step
/// of a command: `up --attach` following the logs after `up`).
@Suite(.serialized) struct SignalTrapTests {
    @Test func aTrapAfterACancelledOneStillHearsTheSignal() async throws {
        for round in 1...3 {
            let heard = OnceFlag()
            let trap = SignalTrap([SIGUSR2]) { _ in heard.set() }
            kill(getpid(), SIGUSR2)
            let deadline = ContinuousClock.now + .seconds(5)
            while !heard.isSet, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            trap.cancel()
            #expect(heard.isSet, "round \(round): the trap did not hear SIGUSR2")
        }
    }
}
