import Foundation
import Platform
import Testing

@Suite struct SocketTests {
    @Test func aSocketPairCarriesBytesBothWaysAndEOF() throws {
        let (a, b) = try Sockets.pair()
        let left = SocketConnection(adopting: a)
        let right = SocketConnection(adopting: b)
        #expect(left.send(Data("ping".utf8)))
        #expect(right.receive() == Data("ping".utf8))
        #expect(right.send(Data("pong".utf8)))
        #expect(left.receive() == Data("pong".utf8))
        left.shutdownWrite()
        #expect(right.receive() == Data())
    }

    @Test func connectingWhereNothingListensFailsQuickly() throws {
        let path = NSTemporaryDirectory() + "devenv-nothing-\(UUID().uuidString.prefix(8)).sock"
        #expect(Sockets.connect(unixPath: path) == nil)
        // A TCP port nothing listens on: refused at once, not after the timeout.
        let started = Date()
        #expect(Sockets.connect(host: "127.0.0.1", port: 1, timeout: 5) == nil)
        #expect(Date().timeIntervalSince(started) < 4)
    }

    @Test func aPortInUseCannotBeBound() throws {
        #expect(Sockets.addresses(of: "localhost").contains("127.0.0.1"))
        #expect(Sockets.addresses(of: "127.0.0.1") == ["127.0.0.1"])
        #expect(Sockets.addresses(of: "no-such-host.invalid").isEmpty)
    }
}

@Suite struct ProcessTests {
    @Test func thisProcessIsRunningWithAStartTimeAndAnExecutable() {
        let pid = Processes.currentID
        #expect(Processes.isRunning(pid))
        #expect(Processes.startTime(of: pid) != nil)
        #expect(Processes.startTime(of: pid) == Processes.startTime(of: pid))
        #expect(FileManager.default.isExecutableFile(atPath: Processes.executablePath()))
        #expect(!Processes.isRunning(Int32.max - 1))
    }

    @Test func aFileLockIsExclusiveUntilReleased() throws {
        let path = NSTemporaryDirectory() + "devenv-lock-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var first = try FileLock.tryLock(path)
        #expect(first != nil)
        first?.write(Data("holder".utf8))
        #expect(FileLock.peek(path) == Data("holder".utf8))
        // flock locks belong to the open file: a second open in this process is refused too.
        #expect(try FileLock.tryLock(path) == nil)
        first = nil
        #expect(try FileLock.tryLock(path) != nil)
    }

    /// Another thread's fork can hold a just-written program open for writing for a moment;
    /// exec then fails with ETXTBSY. The spawn waits that moment out, and only that.
    @Test func aProgramBusyForAMomentStillRunsAndOneBusyForeverIsAnError() throws {
        let path = NSTemporaryDirectory() + "devenv-busy-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "#!/bin/sh\necho ran\n".write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o755)
        let writer = open(path, O_WRONLY | O_CLOEXEC)
        #expect(writer >= 0)
        // Closed by a thread of its own: a block on Dispatch's global queue can run late in a
        // full parallel run, and the spawn waits about 0.6 s (this test failed so, seen twice).
        Thread.detachNewThread {
            usleep(100_000)
            close(writer)
        }
        let outcome = try SpawnedProcess.run([path], timeout: 10)
        #expect(outcome.status == 0 && String(decoding: outcome.output, as: UTF8.self) == "ran\n")

        let held = open(path, O_WRONLY | O_CLOEXEC)
        defer { close(held) }
        let started = Date()
        #expect {
            _ = try SpawnedProcess.run([path], timeout: 10)
        } throws: { error in
            "\(error)".contains("Text file busy")
        }
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test func hostFactsAreRead() {
        let system = Host.system()
        #expect(!system.name.isEmpty && !system.machine.isEmpty)
        #expect((Host.freeBytes(at: NSTemporaryDirectory() + "does/not/exist") ?? 0) > 0)
    }
}

@Suite struct FileWatcherTests {
    @Test func changesInNewSubdirectoriesAreSeen() async throws {
        let root = NSTemporaryDirectory() + "devenv-watch-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let watcher = try FileWatcher(directories: [root], settle: 0.05)
        defer { watcher.stop() }
        let seen = Task {
            var all: [String] = []
            for await batch in watcher.changes {
                all += batch
                if all.contains(where: { $0.hasSuffix("sub/app.py") }) { return all }
            }
            return all
        }
        try FileManager.default.createDirectory(atPath: root + "/sub", withIntermediateDirectories: true)
        // The new directory's watch is added when its creation is read: write after that.
        var seenFile = false
        for attempt in 0..<50 where !seenFile {
            try Data("print(\(attempt))".utf8).write(to: URL(fileURLWithPath: root + "/sub/app.py"))
            try await Task.sleep(for: .milliseconds(100))
            seenFile = FileManager.default.fileExists(atPath: root + "/sub/app.py") && attempt >= 2
        }
        let timeout = Task {
            try await Task.sleep(for: .seconds(10))
            watcher.stop()
        }
        let paths = await seen.value
        timeout.cancel()
        #expect(paths.contains(root + "/sub"))
        #expect(paths.contains(where: { $0.hasSuffix("sub/app.py") }))
    }
}
