import Foundation
import TestSupport
import Testing

/// The remote TLS engine with client material that must be refused (made by
/// Tests/scripts/remote-engine.sh in `bad/`): each is one line naming the engine and the next
/// step, exit 1, and an `up` creates nothing.
@Suite struct RemoteEngineBadInputTests {
    static let cases: [(String, String)] = [
        ("wrong-ca", "presented a certificate that"),
        ("no-client-cert", "wants a client certificate and DOCKER_CERT_PATH="),
        ("expired", "(expired on 2020-01-02); renew cert.pem and key.pem"),
        ("unknown-client", "refused the client certificate"),
    ]

    @Test(arguments: cases.map(\.0))
    func refusedTLSMaterial(_ name: String) async throws {
        let remote = try #require(
            TestEngine.all.first { $0.name == "remote-tls" }, "no remote TLS engine: run 'make test' as root")
        let certs = try #require(remote.environment["DOCKER_CERT_PATH"])
        let bad = (certs as NSString).deletingLastPathComponent + "/bad/" + name
        let expected = try #require(Self.cases.first { $0.0 == name }?.1)
        try await DevenvProject(files: ["compose.yaml": "services:\n  db:\n    image: postgres:15\n"], engine: remote)
            .run { project in
                let up = try await project.devenv(["up"], environment: ["DOCKER_CERT_PATH": bad])
                #expect(up.status == 1)
                let lines = up.stderr.split(separator: "\n")
                #expect(lines.count == 1, "\(up.stderr)")
                #expect(up.stderr.hasPrefix("devenv: docker engine at \(remote.environment["DOCKER_HOST"] ?? "")"))
                #expect(up.stderr.contains(expected), "\(up.stderr)")
                #expect(try await project.containers().isEmpty, "nothing half-made")
            }
    }

    @Test func plainHTTPToTheTLSPortAndAnUnreachableEngine() async throws {
        let remote = try #require(
            TestEngine.all.first { $0.name == "remote-tls" }, "no remote TLS engine: run 'make test' as root")
        let host = try #require(remote.environment["DOCKER_HOST"])
        let plain = try await runProcessAsync(
            devenvExecutable(), ["status", "-p", "x"],
            environment: ["DOCKER_HOST": host, "DOCKER_TLS_VERIFY": nil, "DOCKER_TLS": nil])
        #expect(plain.status == 1)
        #expect(plain.stderr.contains("speaks TLS; set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH"), "\(plain.stderr)")
        let nobody = host.replacingOccurrences(of: ":2376", with: ":2999")
        let unreachable = try await runProcessAsync(
            devenvExecutable(), ["status", "-p", "x"],
            environment: remote.environment.merging(["DOCKER_HOST": nobody]) { $1 })
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.contains("cannot reach docker engine at \(nobody)"), "\(unreachable.stderr)")
    }
}
