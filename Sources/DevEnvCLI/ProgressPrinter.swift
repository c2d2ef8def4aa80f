import DevEnvCore
import Foundation
import Platform

/// Renders orchestrator events: `--json` one object per line on stdout; on a terminal one live
/// line per service; otherwise plain lines on stderr.
final class ProgressPrinter: ProgressSink, @unchecked Sendable {
    enum Mode { case json, live, plain }
    let mode: Mode
    let color: Bool
    private let lock = NSLock()
    private var lines: [(service: String, text: String)] = []
    private var drawn = 0

    init(json: Bool) {
        let tty = Host.isTerminal(Host.standardError)
        mode = json ? .json : (tty && ProcessInfo.processInfo.environment["TERM"] != "dumb" ? .live : .plain)
        color = tty && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
    }

    func emit(_ event: OrchestratorEvent) {
        lock.withLock {
            switch mode {
            case .json:
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                if let data = try? encoder.encode(event) { FileHandle.standardOutput.write(data + Data("\n".utf8)) }
            case .plain:
                // Build output is long; plain logs keep it, prefixed, so CI logs show what failed.
                let who = event.service ?? "project"
                let what = event.status.rawValue + (event.message.map { ": \($0)" } ?? "")
                FileHandle.standardError.write(
                    Data("\(who) \(what) (\(String(format: "%.1f", event.elapsed))s)\n".utf8))
            case .live:
                redraw(with: event)
            }
        }
    }

    private func redraw(with event: OrchestratorEvent) {
        let who = event.service ?? "project"
        var text = event.status.rawValue + (event.message.map { " \($0)" } ?? "")
        text = String(text.prefix(100))
        if let index = lines.firstIndex(where: { $0.service == who }) {
            lines[index].text = text
        } else {
            lines.append((who, text))
        }
        let width = lines.map(\.service.count).max() ?? 0
        var output = drawn > 0 ? "\u{1B}[\(drawn)A" : ""
        for line in lines {
            let mark: String
            switch line.text.split(separator: " ").first {
            case "healthy", "up-to-date", "completed", "done", "removed", "started": mark = paint("✔", 32)
            case "failed": mark = paint("✘", 31)
            default: mark = paint("…", 33)
            }
            output +=
                "\u{1B}[2K\(mark) \(line.service.padding(toLength: width, withPad: " ", startingAt: 0))  \(line.text)"
            output += String(format: " %.1fs\n", event.elapsed)
        }
        drawn = lines.count
        FileHandle.standardError.write(Data(output.utf8))
    }

    private func paint(_ text: String, _ code: Int) -> String {
        color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}
