import Foundation
import TestSupport
import Testing

@testable import DockerEngine

@Suite struct RegistryCredentialsTests {
    /// A `docker-credential-NAME` on a PATH of its own: `script` is its shell body.
    func helper(_ home: ScratchHome, _ name: String, _ script: String) throws -> String {
        let directory = home.path + "/bin"
        try home.write("bin/docker-credential-\(name)", "#!/bin/sh\n" + script)
        chmod(directory + "/docker-credential-\(name)", 0o755)
        return directory
    }

    @Test func registriesAreSplitAsTheDockerCLIDoes() {
        #expect(ImageRegistry.host(of: "postgres:15") == "docker.io")
        #expect(ImageRegistry.host(of: "library/redis") == "docker.io")
        #expect(ImageRegistry.host(of: "cern/dials:1") == "docker.io")
        #expect(ImageRegistry.host(of: "registry.cern.ch/dials/backend:2") == "registry.cern.ch")
        #expect(ImageRegistry.host(of: "localhost:5000/x") == "localhost:5000")
        #expect(ImageRegistry.host(of: "localhost/x") == "localhost")
        #expect(ImageRegistry.configKey(for: "docker.io") == "https://index.docker.io/v1/")
    }

    @Test func authsGiveTheLoginOrTheIdentityToken() throws {
        let home = try ScratchHome()
        defer { home.remove() }
        let basic = Data("ci-bot:s3cret:with:colons".utf8).base64EncodedString()
        try home.write(
            ".docker/config.json",
            #"{"auths":{"https://registry.cern.ch/v1/":{"auth":"\#(basic)"},"gitlab.cern.ch:5050":{"identitytoken":"tok"},"https://index.docker.io/v1/":{"auth":"\#(Data("hub:pw".utf8).base64EncodedString())"}}}"#
        )
        let credentials = RegistryCredentials(configDirectory: home.config, environment: ["PATH": "/nonexistent"])
        let cern = try #require(try credentials.credential(forImage: "registry.cern.ch/dials/backend:2"))
        #expect(cern.username == "ci-bot")
        #expect(cern.password == "s3cret:with:colons")
        #expect(cern.serverAddress == "https://registry.cern.ch/v1/")
        let gitlab = try #require(try credentials.credential(forImage: "gitlab.cern.ch:5050/group/app"))
        #expect(gitlab.identityToken == "tok")
        #expect(gitlab.username == nil)
        let hub = try #require(try credentials.credential(forImage: "postgres:15"))
        #expect(hub.username == "hub")
        #expect(try credentials.credential(forImage: "quay.io/x/y") == nil)

        // The header is base64url of the engine's AuthConfig.
        let header = RegistryCredentials.authHeader(cern)
        #expect(!header.contains("+") && !header.contains("/"))
        let decoded = try #require(
            Data(
                base64Encoded: header.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/"))
        )
        let object = try #require(try JSONSerialization.jsonObject(with: decoded) as? [String: String])
        #expect(
            object == [
                "username": "ci-bot", "password": "s3cret:with:colons", "serveraddress": "https://registry.cern.ch/v1/",
            ])
    }

    @Test func helpersSpeakDockersProtocol() throws {
        let home = try ScratchHome()
        defer { home.remove() }
        // The helper checks its verb and the server it was asked about, as docker's helpers get them.
        let bin = try helper(
            home, "cern",
            """
            [ "$1" = get ] || exit 3
            read server
            [ "$server" = "registry.cern.ch" ] || { echo "credentials not found in native keychain"; exit 1; }
            echo '{"ServerURL":"registry.cern.ch","Username":"robot","Secret":"pw"}'
            """)
        _ = try helper(home, "store", #"read server; echo '{"ServerURL":"x","Username":"<token>","Secret":"refresh"}'"#)
        try home.write(
            ".docker/config.json",
            #"{"credsStore":"store","credHelpers":{"registry.cern.ch":"cern","gitlab.cern.ch":"cern"}}"#)
        let credentials = RegistryCredentials(configDirectory: home.config, environment: ["PATH": bin])
        let cern = try #require(try credentials.credential(forImage: "registry.cern.ch/a/b"))
        #expect(cern.username == "robot" && cern.password == "pw")
        // The per-registry helper knows nothing of gitlab: "not found" is no login, not an error.
        #expect(try credentials.credential(forImage: "gitlab.cern.ch/a/b") == nil)
        // Everything else goes to credsStore; "<token>" means an identity token.
        let other = try #require(try credentials.credential(forImage: "quay.io/a/b"))
        #expect(other.identityToken == "refresh")
    }

    @Test func anAbsentOrFailingHelperIsOneLineWithTheNextStep() throws {
        let home = try ScratchHome()
        defer { home.remove() }
        let bin = try helper(home, "broken", "echo 'secret-looking output'; exit 2")
        try home.write(".docker/config.json", #"{"credHelpers":{"registry.cern.ch":"broken","quay.io":"absent"}}"#)
        let credentials = RegistryCredentials(configDirectory: home.config, environment: ["PATH": bin])
        let failed = #expect(throws: DockerEngineError.self) {
            try credentials.credential(forImage: "registry.cern.ch/a")
        }
        #expect(failed?.code == .credentials)
        #expect(failed?.message.contains("docker-credential-broken failed for registry.cern.ch (exit 2)") == true)
        #expect(failed?.message.contains("docker login registry.cern.ch") == true)
        #expect(failed?.message.contains("secret-looking") == false)
        let absent = #expect(throws: DockerEngineError.self) { try credentials.credential(forImage: "quay.io/a") }
        #expect(absent?.message.contains("docker-credential-absent (for quay.io") == true)
        #expect(absent?.message.contains("is not installed") == true)
    }

    @Test func aRegistryRefusalNamesTheRegistryAndDockerLogin() {
        for text in [
            "Head \"https://registry.cern.ch/v2/dials/manifests/1\": no basic auth credentials",
            "unauthorized: authentication required",
            "pull access denied for cern/private, repository does not exist or may require 'docker login'",
        ] {
            let error = DockerClient.registryError(
                DockerEngineError(.api, text, status: 500), references: ["registry.cern.ch/dials:1"])
            #expect(error?.code == .registryAuth)
            #expect(error?.message.contains("registry registry.cern.ch") == true)
            #expect(error?.message.contains("docker login registry.cern.ch") == true)
        }
        #expect(
            DockerClient.registryError(DockerEngineError(.api, "manifest unknown", status: 404), references: ["x"])
                == nil)
    }

    @Test func pullsAndBuildsCarryTheLogin() async throws {
        let home = try ScratchHome()
        defer { home.remove() }
        try home.write(
            ".docker/config.json",
            #"{"auths":{"registry.cern.ch":{"auth":"\#(Data("u:p".utf8).base64EncodedString())"}}}"#)
        let stub = try StubEngine { request in
            if let answer = Reply.dockerd(request) { return answer }
            return Reply.chunked(200, [Data(#"{"status":"done"}"#.utf8)])
        }
        let client = DockerClient(
            transport: CurlTransport(endpoint: try EngineEndpoint(dockerHost: stub.dockerHost)),
            credentials: RegistryCredentials(configDirectory: home.config, environment: [:]))
        for try await _ in try await client.pullImage("registry.cern.ch/dials/backend:2") {}
        for try await _ in try await client.pullImage("postgres:15") {}
        for try await _ in try await client.buildImage(
            context: Data(), options: .init(tags: ["x"], baseImages: ["registry.cern.ch/base:1", "debian:12"]))
        {}
        let pulls = stub.requests.filter { $0.path.contains("/images/create") }
        #expect(pulls.count == 2)
        #expect(pulls[0].headers.first { $0.key.lowercased() == "x-registry-auth" } != nil)
        #expect(pulls[1].headers.first { $0.key.lowercased() == "x-registry-auth" } == nil)
        let build = try #require(stub.requests.first { $0.path.contains("/build") })
        let config = try #require(build.headers.first { $0.key.lowercased() == "x-registry-config" }?.value)
        let decoded = try #require(Data(base64Encoded: config))
        let map = try #require(try JSONSerialization.jsonObject(with: decoded) as? [String: [String: String]])
        #expect(map.keys.sorted() == ["registry.cern.ch"])
        #expect(map["registry.cern.ch"]?["username"] == "u")
    }
}

/// What Podman 4.3's Docker-compatible API answers (captured from `podman system service`),
/// decoded into the models devenv uses.
@Suite struct PodmanAnswerTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "fixtures/podman-4.3")

    func load(_ name: String) throws -> Data { try Data(contentsOf: Self.fixtures.appendingPathComponent(name)) }

    @Test func everyAnswerDecodes() throws {
        let decoder = JSONDecoder()
        let inspect = try decoder.decode(ContainerInspect.self, from: load("container-inspect.json"))
        #expect(inspect.State.Running)
        #expect(inspect.State.Health?.Status == "starting")
        #expect(inspect.HostConfig?.PortBindings?["5432/tcp"]?.first?.HostIp == "127.0.0.1")
        let list = try decoder.decode([ContainerSummary].self, from: load("container-list.json"))
        #expect(list.count == 3)
        // An exposed port Podman does not publish comes as `null` bindings: no bindings.
        let unpublished = try decoder.decode(
            HostConfig.self, from: Data(#"{"PortBindings":{"6379/tcp":null},"NetworkMode":"bridge"}"#.utf8))
        #expect(unpublished.PortBindings?["6379/tcp"] == [])
        _ = try decoder.decode(ImageInspect.self, from: load("image-inspect.json"))
        _ = try decoder.decode([NetworkInspect].self, from: load("networks.json"))
        _ = try decoder.decode(VolumeList.self, from: load("volumes.json"))
        _ = try decoder.decode(SystemInfo.self, from: load("info.json"))
        _ = try decoder.decode(SystemVersion.self, from: load("version.json"))
        _ = try decoder.decode(ExecInspect.self, from: load("exec-inspect.json"))
    }

    @Test func anEmptyHealthIsNoHealthcheck() throws {
        let state = try JSONDecoder().decode(
            ContainerState.self,
            from: Data(#"{"Status":"running","Running":true,"Health":{"Status":"","FailingStreak":0,"Log":null}}"#.utf8)
        )
        #expect(state.Health == nil)
    }

    @Test func podmanIsRecognisedAndItsHealthchecksRun() async throws {
        let stub = try StubEngine { request in
            switch request.path {
            case "/_ping":
                Reply.full(
                    200, Data("OK".utf8), contentType: "text/plain",
                    headers: ["API-Version": "1.41", "Libpod-Api-Version": "4.3.1"])
            case "/v1.41/info": Reply.json(200, #"{"ServerVersion":"4.3.1","OperatingSystem":"debian"}"#)
            case "/v4.0.0/libpod/info": Reply.json(200, #"{"host":{"security":{"rootless":true}}}"#)
            case "/v4.0.0/libpod/containers/abc/healthcheck": Reply.json(200, #"{"Status":"healthy"}"#)
            default: Reply.full(404, Data("Not Found\n".utf8), contentType: "text/plain")
            }
        }
        let client = DockerClient(transport: CurlTransport(endpoint: try EngineEndpoint(dockerHost: stub.dockerHost)))
        #expect(try await client.kind() == .podman)
        let identity = try await client.identity()
        #expect(identity == EngineIdentity(kind: .podman, version: "4.3.1", rootless: true, operatingSystem: "debian"))
        #expect(try await client.runHealthcheck("abc"))
        // An endpoint Podman does not have: one line naming it and the upgrade.
        let error = await #expect(throws: DockerEngineError.self) { _ = try await client.inspectVolume("v") }
        #expect(error?.code == .unsupported)
        #expect(error?.message.contains("does not implement GET /v1.41/volumes/v") == true)
        #expect(error?.message.contains("Podman 4.0 or newer") == true)
    }

    @Test func dockerIsRecognisedAndRootlessDockerToo() async throws {
        let stub = try StubEngine { request in
            request.path == "/v1.41/info"
                ? Reply.json(
                    200, #"{"ServerVersion":"27.1","SecurityOptions":["name=seccomp,profile=default","name=rootless"]}"#
                )
                : Reply.dockerd(request) ?? Reply.json(404, #"{"message":"page not found"}"#)
        }
        let client = DockerClient(transport: CurlTransport(endpoint: try EngineEndpoint(dockerHost: stub.dockerHost)))
        let identity = try await client.identity()
        #expect(identity.kind == .docker && identity.rootless)
        #expect(try await client.runHealthcheck("abc") == false)
    }

    @Test func plainHTTPToATLSPortSaysToTurnOnTLS() async throws {
        let stub = try StubEngine { _ in
            Reply.full(400, Data("Client sent an HTTP request to an HTTPS server.\n".utf8), contentType: "text/plain")
        }
        let client = DockerClient(transport: CurlTransport(endpoint: try EngineEndpoint(dockerHost: stub.dockerHost)))
        let error = await #expect(throws: DockerEngineError.self) { _ = try await client.version() }
        #expect(error?.code == .tls)
        #expect(error?.message.contains("set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH") == true)
    }
}

/// `ssh://` engines: HTTP over the pipes of `ssh … docker system dial-stdio`. Here `ssh` is a
/// stand-in that checks its arguments and pipes stdin/stdout to the stub engine's socket, as
/// dial-stdio pipes them to dockerd's.
@Suite struct SSHTransportTests {
    func fakeSSH(_ home: ScratchHome, socket: String) throws -> String {
        let path = home.path + "/fake-ssh"
        try """
        #!/usr/bin/env python3
        import os, socket, sys, threading
        args = sys.argv[1:]
        assert args[-5:] == ["--", "build.example", "docker", "system", "dial-stdio"], args
        assert "BatchMode=yes" in args and args[args.index("-l") + 1] == "ci" and args[args.index("-p") + 1] == "2222", args
        with open(os.environ["FAKE_SSH_LOG"], "a") as log: log.write("dial\\n")
        s = socket.socket(socket.AF_UNIX); s.connect("\(socket)")
        def up():
            while (data := os.read(0, 65536)): s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        threading.Thread(target=up, daemon=True).start()
        while (data := s.recv(65536)): os.write(1, data)
        """.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    @Test func requestsGoThroughDialStdioAndReuseTheConnection() async throws {
        let home = try ScratchHome()
        defer { home.remove() }
        let stub = try StubEngine { request in
            Reply.dockerd(request) ?? Reply.json(404, #"{"message":"page not found"}"#)
        }
        let ssh = try fakeSSH(home, socket: stub.socketPath)
        setenv("FAKE_SSH_LOG", home.path + "/dials", 1)
        let client = DockerClient(
            transport: CurlTransport(
                connection: EngineConnection(
                    endpoint: try EngineEndpoint(dockerHost: "ssh://ci@build.example:2222"), sshCommand: ssh)))
        #expect(try await client.apiVersion() == "1.41")
        #expect(try await client.version().Version == "20.10.24")
        #expect(try await client.info().Driver == "overlay2")
        // Another devenv's relay starting up sweeps dead relay sockets: it must not connect to
        // this live one (that would start an ssh), and must remove one whose process is gone.
        let directory = NSTemporaryDirectory() + "devenv-\(getuid())"
        let stale = directory + "/ssh-\(Int32.max - 1)-dead.sock"
        #expect(FileManager.default.createFile(atPath: stale, contents: Data()))
        let other = CurlTransport(
            connection: EngineConnection(endpoint: try EngineEndpoint(dockerHost: "ssh://other"), sshCommand: "false"))
        withExtendedLifetime(other) {}
        #expect(!FileManager.default.fileExists(atPath: stale))
        let dials = try String(contentsOfFile: home.path + "/dials", encoding: .utf8)
        #expect(dials == "dial\n", "one ssh for three requests and another relay: the connection is reused")
    }

    @Test func aFailingSSHSaysWhatSSHSaid() async throws {
        let home = try ScratchHome()
        defer { home.remove() }
        let path = home.path + "/failing-ssh"
        try "#!/bin/sh\necho 'ci@build.example: Permission denied (publickey).' >&2\nexit 255\n".write(
            toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        let client = DockerClient(
            transport: CurlTransport(
                connection: EngineConnection(
                    endpoint: try EngineEndpoint(dockerHost: "ssh://ci@build.example"), sshCommand: path)))
        let error = await #expect(throws: DockerEngineError.self) { _ = try await client.ping() }
        #expect(error?.code == .unreachable)
        #expect(error?.message.contains("ssh://ci@build.example") == true)
        #expect(error?.message.contains("Permission denied (publickey)") == true)
        #expect(error?.hint?.contains("ssh build.example docker version") == true)
    }
}
