import Foundation
import Platform
import Testing

@testable import DevEnvCore

/// The live process that keeps an expired ephemeral project from being collected.
struct HolderTests {
    @Test func theLabelRoundTripsAndRejectsGarbage() throws {
        let holder = Holder.current()
        #expect(Holder(label: holder.label) == holder)
        #expect(!holder.started.isEmpty, "procfs gives this process's start time")
        #expect(Holder(label: "host/0/1") == nil)
        #expect(Holder(label: "host/x/1") == nil)
        #expect(Holder(label: "just-a-host") == nil)
    }

    @Test func thisProcessIsAliveUntilItsIdentityChanges() {
        let me = Holder.current()
        #expect(me.isAlive)
        var recycled = me
        recycled.started = "1"
        #expect(!recycled.isAlive, "same PID, another start time: a recycled PID")
        var elsewhere = me
        elsewhere.host = me.host + "-other"
        #expect(!elsewhere.isAlive, "a PID on another host means nothing here")
    }

    @Test func anEndedProcessIsNotAlive() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        let holder = Holder(
            host: ProcessInfo.processInfo.hostName, pid: process.processIdentifier,
            started: Processes.startTime(of: process.processIdentifier) ?? "")
        process.waitUntilExit()
        #expect(!holder.isAlive)
    }
}

/// How digests and tokens are written.
struct HexadecimalTests {
    @Test func twoLowercaseDigitsPerByte() {
        #expect([UInt8]().hexadecimal == "")
        #expect([0x00, 0x0f, 0xa0, 0xff].hexadecimal == "000fa0ff")
        #expect(Array("abc".utf8).hexadecimal == "616263")
    }
}
