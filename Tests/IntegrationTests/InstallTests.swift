import Foundation
import TestSupport
import Testing

/// `make install` (issue #18): the release binary, completions for bash, zsh and fish and the
/// man page under a PREFIX, all made from devenv's own argument definitions, so every command
/// (`run` and `cp` included) is in them; `make uninstall` takes exactly those away. Here, not
/// with the unit tests: `make test` builds the release binary (`make image`) before this runs.
@Suite struct InstallTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../..").standardizedFileURL.path

    @Test func installPutsTheBinaryCompletionsAndManPageUnderThePrefix() throws {
        let prefix = NSTemporaryDirectory() + "devenv-install-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: prefix) }
        let make = try runProcess(
            URL(fileURLWithPath: "/usr/bin/make"), ["-s", "install", "PREFIX=\(prefix)"],
            currentDirectory: Self.repository)
        try #require(make.status == 0, "\(make.stdout.suffix(2000)) \(make.stderr.suffix(2000))")
        let files = [
            "bin/devenv", "share/bash-completion/completions/devenv", "share/zsh/site-functions/_devenv",
            "share/fish/vendor_completions.d/devenv.fish", "share/man/man1/devenv.1",
        ]
        for file in files { #expect(FileManager.default.fileExists(atPath: "\(prefix)/\(file)"), "\(file)") }

        let version = try runProcess(URL(fileURLWithPath: prefix + "/bin/devenv"), ["version"])
        #expect(version.status == 0 && version.stdout.hasPrefix("devenv "), "\(version.stdout)")

        // The man page is clean roff with every command, subcommands too.
        let page = try String(contentsOfFile: prefix + "/share/man/man1/devenv.1", encoding: .utf8)
        for section in [".SS up", ".SS run", ".SS cp", ".SS exec", ".SS sample capture", ".SS config"] {
            #expect(page.contains(section + "\n"), "\(section)")
        }
        let groff = try runProcess(
            URL(fileURLWithPath: "/usr/bin/groff"),
            ["-man", "-Tutf8", "-ww", "-z", prefix + "/share/man/man1/devenv.1"])
        #expect(groff.status == 0 && groff.stderr.isEmpty, "\(groff.stderr)")

        // bash offers every command after `devenv `.
        let bash = try runProcess(
            URL(fileURLWithPath: "/bin/bash"),
            [
                "-c",
                "source '\(prefix)/share/bash-completion/completions/devenv'; COMP_WORDS=(devenv ''); COMP_CWORD=1; _devenv; echo \"${COMPREPLY[@]}\"",
            ])
        let offered = Set(bash.stdout.split(whereSeparator: \.isWhitespace).map(String.init))
        #expect(
            offered.isSuperset(of: ["up", "run", "cp", "exec", "config", "logs", "down"]),
            "\(bash.stdout) \(bash.stderr)")
        #expect(
            try String(contentsOfFile: prefix + "/share/zsh/site-functions/_devenv", encoding: .utf8).hasPrefix(
                "#compdef devenv"))
        let fish = try String(contentsOfFile: prefix + "/share/fish/vendor_completions.d/devenv.fish", encoding: .utf8)
        #expect(fish.contains("complete -c 'devenv'") && fish.contains("'run'"))

        let uninstall = try runProcess(
            URL(fileURLWithPath: "/usr/bin/make"), ["-s", "uninstall", "PREFIX=\(prefix)"],
            currentDirectory: Self.repository)
        #expect(uninstall.status == 0)
        for file in files { #expect(!FileManager.default.fileExists(atPath: "\(prefix)/\(file)"), "\(file) left") }
    }
}
