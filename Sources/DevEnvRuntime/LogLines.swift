import DockerEngine
import Foundation

/// A container's log frames as whole lines, per stream: a line split across frames comes out
/// once, whole; blank lines are kept (unlike a progress stream's).
public struct LogLines: Sendable {
    private var pending: [ContainerStream: String] = [:]

    public init() {}

    /// The lines `frame` completes.
    public mutating func feed(_ frame: OutputFrame) -> [(ContainerStream, String)] {
        var text = (pending[frame.stream] ?? "") + frame.text
        var lines: [(ContainerStream, String)] = []
        while let newline = text.firstIndex(of: "\n") {
            lines.append((frame.stream, String(text[..<newline])))
            text = String(text[text.index(after: newline)...])
        }
        pending[frame.stream] = text
        return lines
    }

    /// What is left when the log ends without a newline.
    public mutating func finish() -> [(ContainerStream, String)] {
        defer { pending = [:] }
        return pending.filter { !$0.value.isEmpty }.sorted { $0.key.rawValue < $1.key.rawValue }.map {
            ($0.key, $0.value)
        }
    }
}
