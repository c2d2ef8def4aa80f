import Foundation
import Platform
import TestSupport
import Testing

/// `devenv exec` on a terminal (issue #18), in a tmux pane as a developer types: a TTY in the
/// container the size of the window and following it, keys reaching the program unedited,
/// the exit code passed through, and the local terminal put back afterwards.
@Suite(.serialized) struct ExecTerminalTests {
    static let compose = """
        services:
          app:
            image: debian:bookworm-slim
            command: ["sh", "-c", "trap exit TERM; sleep infinity & wait"]
        """

    /// Runs tmux with nothing but descriptors 0–2 inherited. Foundation's `Process` hands its
    /// child a socket whose closing tells it the child ended; the tmux server a first
    /// `new-session` forks keeps that socket, and `waitUntilExit` then never returns.
    @discardableResult
    func tmux(_ arguments: [String]) throws -> SpawnedProcess.Outcome {
        try SpawnedProcess.run(["/usr/bin/tmux"] + arguments, timeout: 30)
    }

    /// The pane's text once `predicate` holds for it (or the last one, after 60 s).
    func pane(_ session: String, until predicate: (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(60)
        var text = ""
        while ContinuousClock.now < deadline {
            text = String(decoding: try tmux(["capture-pane", "-p", "-t", session]).output, as: UTF8.self)
            if predicate(text) { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        return text
    }

    @Test(arguments: TestEngine.all)
    func execOnATerminalIsRawSizedAndPassesTheExitCode(engine: TestEngine) async throws {
        try await DevenvProject(files: ["compose.yaml": Self.compose], engine: engine).run { project in
            #expect(try await project.devenv(["up"]).status == 0, "\(engine.name)")
            try await onATerminal(["exec"], project: project, engine: engine)
        }
    }

    /// `devenv run` gives its one-off container the same terminal as exec.
    @Test(arguments: TestEngine.all)
    func runOnATerminalIsRawSizedAndPassesTheExitCode(engine: TestEngine) async throws {
        try await DevenvProject(files: ["compose.yaml": Self.compose], engine: engine).run { project in
            try await onATerminal(["run", "--rm"], project: project, engine: engine)
        }
    }

    /// `devenv COMMAND… app -- sh -c …` in a tmux pane: the TTY's size at the start and after a
    /// resize, a line typed, the exit code, and the local terminal put back.
    func onATerminal(_ command: [String], project: DevenvProject, engine: TestEngine) async throws {
        // In the container: the TTY's size, its name, a line read, the size again, exit 7.
        // The first `stty size` waits a second: engines before API 1.42 start an exec's TTY
        // at 0×0 and take the size right after the start (as with the docker CLI).
        let inside = "sleep 1; stty size; tty; echo ready; read line; stty size; echo got:$line; exit 7"
        var script = "cd '\(project.directory)'\n"
        for case let (name, value?) in project.environment { script += "export \(name)='\(value)'\n" }
        script += """
            '\(devenvExecutable().path)' \(command.joined(separator: " ")) -p \(project.name) app -- sh -c '\(inside)'
            echo "exit:$?"
            stty -a | grep -q ' icanon' && echo local-terminal-restored
            sleep 60

            """
        let scriptPath = project.directory + "/exec-in-tmux.sh"
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        let session = "devenv-\(project.name)"
        defer { _ = try? tmux(["kill-session", "-t", session]) }
        let started = try tmux(["new-session", "-d", "-s", session, "-x", "100", "-y", "30", "sh " + scriptPath])
        #expect(started.status == 0)

        let first = try await pane(session) { $0.contains("ready") }
        #expect(first.contains("30 100"), "\(engine.name): \(first)")
        #expect(first.contains("/dev/pts/"), "\(engine.name): no TTY in the container: \(first)")
        try tmux(["resize-window", "-t", session, "-x", "120", "-y", "40"])
        try await Task.sleep(for: .milliseconds(500))
        try tmux(["send-keys", "-t", session, "hello", "Enter"])
        let last = try await pane(session) {
            $0.contains("local-terminal-restored") || $0.contains("exit:") && $0.contains("got:")
        }
        #expect(last.contains("40 120"), "\(engine.name): the size did not follow the window: \(last)")
        #expect(last.contains("got:hello"), "\(engine.name): \(last)")
        #expect(last.contains("exit:7"), "\(engine.name): \(last)")
        let restored = try await pane(session) { $0.contains("local-terminal-restored") }
        #expect(restored.contains("local-terminal-restored"), "\(engine.name) \(command): \(restored)")
    }

    /// Without a terminal (a pipe, as in CI), no TTY: stdout and stderr stay apart.
    @Test func execWithoutATerminalKeepsTheStreamsApart() async throws {
        try await DevenvProject(files: ["compose.yaml": Self.compose]).run { project in
            #expect(try await project.devenv(["up"]).status == 0)
            let result = try await project.devenv([
                "exec", "app", "--", "sh", "-c", "tty; echo out; echo err >&2; exit 3",
            ])
            #expect(result.status == 3)
            #expect(result.stdout == "not a tty\nout\n", "\(result.stdout)")
            #expect(result.stderr == "err\n")
        }
    }
}
