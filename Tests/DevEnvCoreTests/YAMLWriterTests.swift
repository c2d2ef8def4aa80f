import Foundation
import Testing

@testable import DevEnvCore

/// `config`, `render` and `import` print YAML with `YAMLWriter`: every string reads back as
/// the same string, and the time grows with the output, not its square.
@Suite struct YAMLWriterTests {
    static let awkward: [String] = [
        "", " ", "plain", "yes", "No", "ON", "off", "y", "n", "true", "False", "null", "~", "Null", "0", "007", "0o17",
        "0x1F", "-1", "+1", "1.5", "1e3", ".5", "-.inf", ".NaN", "1_000", "1:20", "2024-01-02", "2024-1-2 10:00:00",
        "<<", "=", "-", "- x", "-x", "?", "? x", ":", ": x", "a: b", "a:b", "a #b", "a#b", "#x", "&x", "*x", "!x",
        "|", ">", "'", "\"", "%x", "@x", "`x", "[a]", "{a: 1}", ",", "a, b", "trailing ", " leading", "tab\there",
        "line\nbreak", "ends\n", "\r\n", "nul\0byte", "esc\u{1B}[31m", "del\u{7F}", "c1\u{85}", "bom\u{FEFF}",
        "ls\u{2028}ps\u{2029}", "café ☕", "emoji 🧪", "it's", "say \"hi\"", "back\\slash", "$HOME", "${X}", "{{ t }}",
        "127.0.0.1:8000:8000", "postgres:15", "registry.cern.ch/a/b:1.2", "--flag=value",
        String(repeating: "k", count: 1500),
    ]

    /// Each awkward string as a key and as a value, read back by devenv's own YAML reader
    /// (libyaml, YAML 1.1 types): a string with the same content.
    @Test func everyStringReadsBackAsItself() throws {
        let pairs = Self.awkward.enumerated().map { ("k\($0.offset)-" + $0.element, YAMLValue.string($0.element)) }
        let document = YAMLWriter.document(
            .mapping([("values", .mapping(pairs)), ("list", .sequence(Self.awkward.map { .string($0) }))]))
        let node = try #require(try YAMLReader.parse(document, file: "out.yaml"))
        let values = try #require(node["values"]?.mapping)
        #expect(values.count == pairs.count)
        for (entry, (key, value)) in zip(values, pairs) {
            #expect(entry.key == key)
            guard case .string(let text) = value, case .scalar(let read, let tag) = entry.value.kind else {
                Issue.record("\(key) did not read back as a scalar")
                continue
            }
            #expect(read == text, "\(key.debugDescription)")
            #expect(tag == .string, "\(text.debugDescription) reads back as \(tag)")
        }
        let list = try #require(node["list"]?.sequence)
        #expect(list.map(\.scalar) == Self.awkward.map { Optional($0) })
    }

    @Test func nestingAndEmptyCollections() throws {
        let value = YAMLValue.mapping([
            (
                "a",
                .sequence([.mapping([("x", .literal("1")), ("y", .sequence([.string("z")]))]), .sequence([.null])])
            ),
            ("b", .mapping([])), ("c", .sequence([])), ("d", .null), ("e", .literal("true")),
        ])
        let text = YAMLWriter.document(value)
        #expect(text == "a:\n- x: 1\n  'y':\n  - z\n- - null\nb: {}\nc: []\nd: null\ne: true\n")
        let node = try #require(try YAMLReader.parse(text, file: "out.yaml"))
        #expect(node["a"]?.sequence?.first?["y"]?.sequence?.first?.scalar == "z")
    }

    @Test func jsonIsReadInItsOwnOrderWithNumbersAsSpelled() throws {
        let json = Data(#"{"b": [1, 2.50, true, null, "x\"y\u00e9\ud83e\uddea"], "a": {}}"#.utf8)
        #expect(
            try YAMLValue(json: json)
                == .mapping([
                    ("b", .sequence([.literal("1"), .literal("2.50"), .literal("true"), .null, .string("x\"yé🧪")])),
                    ("a", .mapping([])),
                ]))
    }
}
