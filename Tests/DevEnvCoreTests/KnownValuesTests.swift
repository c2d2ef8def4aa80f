import DevEnvModel
import Foundation
import Testing

@testable import DevEnvSamples

/// Issue #17: people named in free text get their column's pseudonym, in one pass.
@Suite struct KnownValuesTests {
    func known(_ pairs: [(String, String)], source: String = "auth_user.first_name") -> KnownValues {
        var known = KnownValues()
        for (original, replacement) in pairs { known.add(original, replacement: replacement, source: source) }
        return known
    }

    @Test func namesAreReplacedAsWholeWordsInAnyCase() {
        let names = known([("Maria", "Anna"), ("jdoe", "aberger12")])
        #expect(names.replace(in: "checked by Maria, or call maria") == "checked by Anna, or call anna")
        #expect(names.replace(in: "MARIA signed") == "ANNA signed")
        #expect(names.replace(in: "Mariana and Marias are other words") == "Mariana and Marias are other words")
        #expect(names.replace(in: "ask JDoe") == "ask aberger12")
    }

    @Test func usernamesInsidePathsAndURLs() {
        let names = known([("jdoe", "aberger12"), ("j.smith", "bcosta7")], source: "auth_user.username")
        #expect(names.replace(in: "/home/jdoe/plots") == "/home/aberger12/plots")
        #expect(names.replace(in: "https://x.cern.ch/?user=jdoe&x=1") == "https://x.cern.ch/?user=aberger12&x=1")
        #expect(names.replace(in: "see j.smith's note") == "see bcosta7's note")
        #expect(names.replace(in: "jdoe2 and xjdoe stay") == "jdoe2 and xjdoe stay")
    }

    @Test func nonASCIIApostrophesHyphensAndSeveralWords() {
        let names = known([
            ("Müller", "Berger"), ("O'Neil", "Costa"), ("Jean-Pierre", "Hugo"), ("Maria Luisa Rossi", "Anna Weber"),
            ("Maria", "Elena"), ("Ødegård", "Olsen"),
        ])
        #expect(names.replace(in: "ask müller or MÜLLER") == "ask berger or BERGER")
        #expect(names.replace(in: "O’Neil wrote") == "Costa wrote", "a curly apostrophe reads as a straight one")
        #expect(names.replace(in: "Jean-Pierre and jean-pierre") == "Hugo and hugo")
        #expect(names.replace(in: "Maria  Luisa\nRossi was on shift") == "Anna Weber was on shift", "longest first")
        #expect(names.replace(in: "Maria Luisa was on shift") == "Elena Luisa was on shift")
        #expect(names.replace(in: "ødegård") == "olsen")
        // Decomposed (NFD) text is matched as its composed form.
        #expect(names.replace(in: "Mu\u{308}ller") == "Berger")
        // A match may end inside a character (a zero-width joiner after the name is not a
        // letter, but joins the name's last character): the text around it is kept scalar for
        // scalar, not rounded to whole characters.
        let joined = names.replace(in: "Maria\u{200D} signed")
        #expect(Array(joined.unicodeScalars) == Array("Elena\u{200D} signed".unicodeScalars))
    }

    @Test func tooShortCommonAndDigitsAreLeftOutAndCounted() {
        var names = KnownValues()
        #expect(names.add("Al", replacement: "Ben", source: "auth_user.first_name") == .short)
        #expect(names.add("Bo", replacement: "Ben", source: "auth_user.first_name") == .short)
        #expect(names.add("admin", replacement: "x", source: "auth_user.username") == .common)
        #expect(names.add("Test", replacement: "x", source: "auth_user.username") == .common)
        #expect(names.add("12345", replacement: "x", source: "auth_user.username") == .digits)
        #expect(names.add("Eve", replacement: "Vera", source: "auth_user.first_name") == nil)
        #expect(names.replace(in: "Al and admin ran test 12345 with Eve") == "Al and admin ran test 12345 with Vera")
        #expect(names.skipped["auth_user.first_name"]?[.short] == 2)
        #expect(
            names.summary["auth_user.username"]
                == "0 values propagated into free text; not propagated: 1 only digits, 2 a common word (admin, test)")
        #expect(
            names.summary["auth_user.first_name"]
                == "1 values propagated into free text; not propagated: 2 shorter than 3 letters or digits")
        // The report never names a left-out person: only the rule's own common words.
        #expect(!names.summary.values.joined().contains("Al"))
    }

    @Test func thePrefilterOnlyPassesTextThatMayHoldAValue() {
        let names = known([("Maria", "Anna"), ("jdoe", "aberger12")])
        func may(_ text: String) -> Bool { Array(text.utf8).withUnsafeBytes { names.mayMatch(bytes: $0) } }
        #expect(may("call MARIA"))
        #expect(may("path/jdoe/x"))
        #expect(!may("nothing personal here"))
        #expect(may("Grüße"), "non-ASCII words are checked in full")
    }

    @Test func theScrubberPropagatesAfterItsPatterns() {
        let pseudonymizer = Pseudonymizer(key: Data("known-values-test-key".utf8))
        var names = KnownValues()
        let pseudonym = pseudonymizer.identityPseudonym(.firstName, "Maria")!
        names.add("Maria", replacement: pseudonym, source: "auth_user.first_name")
        pseudonymizer.learn(names)
        let scrubbed = pseudonymizer.apply(.text, to: "call Maria at maria.rossi@cern.ch")!
        #expect(scrubbed.hasPrefix("call \(pseudonym) at "))
        #expect(!scrubbed.lowercased().contains("maria"))
        #expect(scrubbed.hasSuffix("@example.org"))
        // Inside JSON strings too.
        let json = pseudonymizer.apply(.json([:]), to: #"{"note": "ask Maria", "n": 3}"#)!
        #expect(json.contains("ask \(pseudonym)") && !json.contains("Maria"))
    }

    @Test func auditPatternsFlagWhatNoPseudonymLooksLike() {
        #expect(SampleAuditor.patterns(in: "write to a.b@cern.ch", freeText: false) == ["an e-mail address"])
        #expect(SampleAuditor.patterns(in: "write to anna.berger1@example.org", freeText: false).isEmpty)
        #expect(SampleAuditor.patterns(in: "/eos/user/j/jdoe/x", freeText: false) == ["an EOS user path"])
        #expect(SampleAuditor.patterns(in: "/eos/user/a/aberger12/x", freeText: false).isEmpty)
        #expect(SampleAuditor.patterns(in: "https://u:pw@git.cern.ch", freeText: false) == ["a password in a URL"])
        #expect(SampleAuditor.patterns(in: "https://u:redacted@git.cern.ch", freeText: false).isEmpty)
        #expect(SampleAuditor.patterns(in: "from 188.184.1.2", freeText: true) == ["an IP address"])
        #expect(SampleAuditor.patterns(in: "from 188.184.1.2", freeText: false).isEmpty, "versions in data columns")
        #expect(SampleAuditor.patterns(in: "from 10.3.4.5", freeText: true).isEmpty)
        #expect(
            SampleAuditor.patterns(in: "key AbCdEfGh0123456789AbCdEfGh0123456789", freeText: true) == ["a token"])
        #expect(SampleAuditor.patterns(in: "key 0123456789abcdef0123456789abcdef", freeText: true).isEmpty)
    }

    func policy(_ text: String) throws -> SamplePolicy {
        let path = NSTemporaryDirectory() + "devenv-policy-\(UUID().uuidString).yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try SamplePolicy.load(path: path)
    }

    @Test func aPolicyMarksIdentityColumnsAndRefusesMarksThatGiveNoPseudonym() throws {
        let marked = try policy(
            """
            tables:
              shift_log:
                reviewer: { identity: true }
                signed: { identity: true, rule: full_name }
                room: { identity: false, rule: keep }
            """)
        #expect(marked.identities["shift_log"]?.keys.sorted() == ["reviewer", "signed"])
        #expect(marked.tables["shift_log"] == .columns(["reviewer": .username, "signed": .fullName, "room": .keep]))
        #expect(
            marked.digest
                != (try policy("tables:\n  shift_log: { reviewer: username, signed: full_name, room: keep }")).digest)
        #expect(throws: DevEnvError.self) { try policy("tables:\n  t:\n    c: { identity: true, rule: keep }\n") }
        #expect(throws: DevEnvError.self) { try policy("tables:\n  t:\n    c: { identity: maybe }\n") }
    }

    @Test func anAuditLeavesOutValuesAPseudonymCanBe() {
        var audit = KnownValues(excludingWords: ["Anna", "Weber", "Rossi"])
        #expect(audit.add("Anna", replacement: "", source: "auth_user.first_name") == .pseudonym)
        #expect(audit.add("Anna Weber", replacement: "", source: "extra_data.name") == .pseudonym)
        #expect(audit.add("Maria Rossi", replacement: "", source: "extra_data.name") == nil)
        #expect(audit.add("anna.weber", replacement: "", source: "auth_user.email") == nil, "no pseudonym has a dot")
        #expect(audit.matches(in: "checked by Anna Weber and maria rossi").map(\.value.source) == ["extra_data.name"])
    }

    @Test func withTheKeyAnAuditLeavesOutOnlyThePseudonymsThemselves() {
        var audit = KnownValues(
            excludingValues: ["Anna Weber", "aberger12"], excludingWords: ["Anna", "Rossi", "Weber"])
        #expect(audit.add("anna  weber", replacement: "", source: "extra_data.name") == .pseudonym)
        #expect(audit.add("Anna Rossi", replacement: "", source: "extra_data.name") == nil, "no one's pseudonym")
        #expect(audit.add("Anna", replacement: "", source: "auth_user.first_name") == .pseudonym, "a part of one")
        #expect(audit.add("Maria", replacement: "", source: "auth_user.first_name") == nil)
    }
}
