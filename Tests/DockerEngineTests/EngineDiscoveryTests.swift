import DockerEngine
import Foundation
import Testing

/// A scratch `$HOME` with a docker config directory, removed afterwards.
struct ScratchHome {
    let path: String
    var config: String { path + "/.docker" }

    init() throws {
        path = NSTemporaryDirectory() + "devenv-home-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path + "/.docker", withIntermediateDirectories: true)
    }

    func write(_ relative: String, _ text: String) throws {
        let file = path + "/" + relative
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: file, atomically: true, encoding: .utf8)
    }

    /// A docker context as `docker context create` stores it.
    func context(_ name: String, host: String, skipTLSVerify: Bool = false, tls: Bool = false) throws {
        let directory = String(name.unicodeScalars.map { String(format: "%02x", $0.value) }.joined().prefix(64))
        try write(
            ".docker/contexts/meta/\(directory)/meta.json",
            #"{"Name":"\#(name)","Metadata":{},"Endpoints":{"docker":{"Host":"\#(host)","SkipTLSVerify":\#(skipTLSVerify)}}}"#
        )
        if tls {
            for file in ["ca.pem", "cert.pem", "key.pem"] {
                try write(".docker/contexts/tls/\(directory)/docker/\(file)", "pem")
            }
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

@Suite struct EngineDiscoveryTests {
    /// Discovery with `answering` as the only sockets that accept connections.
    func select(
        _ environment: [String: String], home: ScratchHome, answering: Set<String> = []
    ) throws -> EngineSelection {
        try EngineDiscovery.select(environment: environment, home: home.path, answers: { answering.contains($0) })
    }

    @Test func dockerHostComesFirst() throws {
        let home = try ScratchHome()
        defer { home.remove() }
        try home.context("remote", host: "tcp://10.0.0.9:2376")
        try home.write(".docker/config.json", #"{"currentContext":"remote"}"#)
        let selection = try select(
            ["DOCKER_HOST": "unix:///tmp/mine.sock", "DOCKER_CONTEXT": "remote"], home: home,
            answering: ["/var/run/docker.sock"])
        #expect(selection.connection.endpoint == .unix(path: "/tmp/mine.sock"))
        #expect(selection.source == .dockerHost)
        #expect(selection.reason == "DOCKER_HOST is set")
    }

    @Test func tlsVariablesAsTheDockerCLIReadsThem() throws {
        let home = try ScratchHome()
        defer { home.remove() }
        for file in ["ca.pem", "cert.pem", "key.pem"] { try home.write("certs/\(file)", "pem") }
        let verified = try select(
            ["DOCKER_HOST": "tcp://docker:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": home.path + "/certs"],
            home: home)
        #expect(verified.connection.endpoint == .tcp(host: "docker", port: 2376))
        #expect(verified.connection.tls?.verify == true)
        #expect(verified.connection.tls?.caFile == home.path + "/certs/ca.pem")
        #expect(verified.connection.tls?.certFile == home.path + "/certs/cert.pem")
        #expect(verified.connection.tls?.keyFile == home.path + "/certs/key.pem")

        // DOCKER_TLS alone: encrypted, not verified; the cert path defaults to the config directory.
        try home.write(".docker/cert.pem", "pem")
        try home.write(".docker/key.pem", "pem")
        let unverified = try select(["DOCKER_HOST": "tcp://docker", "DOCKER_TLS": "1"], home: home)
        #expect(unverified.connection.endpoint == .tcp(host: "docker", port: 2376))
        #expect(unverified.connection.tls?.verify == false)
        #expect(unverified.connection.tls?.caFile == nil)
        #expect(unverified.connection.tls?.certFile == home.config + "/cert.pem")

        // No TLS variable: plain HTTP, as the docker CLI.
        let plain = try select(["DOCKER_HOST": "tcp://docker:2375"], home: home)
        #expect(plain.connection.tls == nil)
        // TLS variables do not apply to a unix socket.
        let unix = try select(["DOCKER_HOST": "unix:///x.sock", "DOCKER_TLS_VERIFY": "1"], home: home)
        #expect(unix.connection.tls == nil)
    }

    @Test func missingTLSFilesAreNamed() throws {
        let home = try ScratchHome()
        defer { home.remove() }
        try home.write("certs/cert.pem", "pem")
        let environment = [
            "DOCKER_HOST": "tcp://docker:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": home.path + "/certs",
        ]
        let noCA = #expect(throws: DockerEngineError.self) { try select(environment, home: home) }
        #expect(noCA?.code == .tls)
        #expect(noCA?.message.contains("DOCKER_CERT_PATH=\(home.path)/certs has no ca.pem") == true)
        try home.write("certs/ca.pem", "pem")
        let noKey = #expect(throws: DockerEngineError.self) { try select(environment, home: home) }
        #expect(noKey?.message.contains("cert.pem but no key.pem") == true)
    }

    @Test func theCurrentContextAndItsTLSFiles() throws {
        let home = try ScratchHome()
        defer { home.remove() }
        try home.context("ci", host: "tcp://dind.example.org:2376", tls: true)
        try home.context("other", host: "unix:///run/other.sock")
        try home.write(".docker/config.json", #"{"auths":{},"currentContext":"ci"}"#)
        let selection = try select([:], home: home, answering: ["/var/run/docker.sock"])
        #expect(selection.source == .context)
        #expect(selection.context == "ci")
        #expect(selection.reason == "docker context 'ci'")
        #expect(selection.connection.endpoint == .tcp(host: "dind.example.org", port: 2376))
        #expect(selection.connection.tls?.verify == true)
        #expect(selection.connection.tls?.caFile?.hasSuffix("/docker/ca.pem") == true)

        // DOCKER_CONTEXT overrides config.json; "default" means the sockets.
        let other = try select(["DOCKER_CONTEXT": "other"], home: home)
        #expect(other.connection.endpoint == .unix(path: "/run/other.sock"))
        let byDefault = try select(["DOCKER_CONTEXT": "default"], home: home, answering: ["/var/run/docker.sock"])
        #expect(byDefault.source == .socket)
    }

    @Test func aContextThatDoesNotExistOrHasNoEndpointIsAnError() throws {
        let home = try ScratchHome()
        defer { home.remove() }
        let missing = #expect(throws: DockerEngineError.self) {
            try select(["DOCKER_CONTEXT": "gone"], home: home)
        }
        #expect(missing?.code == .discovery)
        #expect(missing?.message.contains("docker context 'gone' (from DOCKER_CONTEXT) does not exist") == true)
        #expect(missing?.message.contains("docker context ls") == true)

        try home.context("empty", host: "")
        try home.write(".docker/config.json", #"{"currentContext":"empty"}"#)
        let empty = #expect(throws: DockerEngineError.self) { try select([:], home: home) }
        #expect(empty?.message.contains("has no docker endpoint") == true)
        #expect(empty?.message.contains("config.json") == true)

        try home.write(".docker/config.json", "{not json")
        let broken = #expect(throws: DockerEngineError.self) { try select([:], home: home) }
        #expect(broken?.message.contains("config.json is not valid JSON") == true)
    }

    @Test func theFirstWellKnownSocketThatAnswers() throws {
        let home = try ScratchHome()
        defer { home.remove() }
        let environment = ["XDG_RUNTIME_DIR": "/run/user/1000"]
        let candidates = EngineDiscovery.candidates(environment: environment, home: home.path)
        #expect(
            candidates.map(\.path) == [
                "/var/run/docker.sock", "/run/user/1000/docker.sock", "/run/user/1000/podman/podman.sock",
                home.path + "/.docker/run/docker.sock", home.path + "/.colima/default/docker.sock",
                home.path + "/.orbstack/run/docker.sock",
            ])
        let podman = try select(
            environment, home: home,
            answering: ["/run/user/1000/podman/podman.sock", home.path + "/.colima/default/docker.sock"])
        #expect(podman.connection.endpoint == .unix(path: "/run/user/1000/podman/podman.sock"))
        #expect(podman.socketOwner == "rootless Podman")
        #expect(podman.reason.contains("rootless Podman"))
        let colima = try select(environment, home: home, answering: [home.path + "/.colima/default/docker.sock"])
        #expect(colima.socketOwner == "Colima")

        let nothing = try select(environment, home: home)
        #expect(nothing.source == .fallback)
        #expect(nothing.connection.endpoint == .unix(path: "/var/run/docker.sock"))
        #expect(nothing.tried.count == 6)
    }

    @Test func nothingAnsweringNamesEverySocketTried() async throws {
        let home = try ScratchHome()
        defer { home.remove() }
        let client = try DockerClient.fromEnvironment(["XDG_RUNTIME_DIR": home.path + "/run"], home: home.path)
        // The rootful socket may answer on this machine; only a fallback selection is checked.
        guard client.selection?.source == .fallback else { return }
        let error = await #expect(throws: DockerEngineError.self) { _ = try await client.apiVersion() }
        #expect(error?.message.contains(home.path + "/.colima/default/docker.sock") == true)
        #expect(error?.hint?.contains("DOCKER_HOST") == true)
    }

    @Test func sshRunsDialStdioWithoutAPrompt() throws {
        let home = try ScratchHome()
        defer { home.remove() }
        let selection = try select(["DOCKER_HOST": "ssh://ci@build:2222", "DEVENV_SSH": "/opt/ssh"], home: home)
        #expect(selection.connection.sshCommand == "/opt/ssh")
        #expect(selection.connection.endpoint == .ssh(user: "ci", host: "build", port: 2222))
    }
}
