import DockerEngine
import Foundation
import Testing

@testable import DevEnvRuntime

@Suite struct LogLinesTests {
    @Test func linesSplitAcrossFramesComeOutWholeAndBlankLinesStay() {
        var lines = LogLines()
        func frame(_ stream: ContainerStream, _ text: String) -> OutputFrame {
            OutputFrame(stream: stream, payload: Data(text.utf8))
        }
        #expect(lines.feed(frame(.stdout, "first ha")).isEmpty)
        #expect(lines.feed(frame(.stderr, "err\n")).map(\.1) == ["err"])
        #expect(lines.feed(frame(.stdout, "lf\n\nthird")).map(\.1) == ["first half", ""])
        #expect(lines.finish().map(\.1) == ["third"])
        #expect(lines.finish().isEmpty)
    }
}
