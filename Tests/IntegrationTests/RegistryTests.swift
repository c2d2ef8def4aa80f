import DockerEngine
import Foundation
import TestSupport
import Testing

/// Private images: a registry that needs a login (Tests/scripts/registry.sh, Debian's
/// docker-registry with htpasswd), logins from `$DOCKER_CONFIG/config.json` (`auths`) and from a
/// credential helper, for pulls and for a build's FROM. The login never shows in any output.
@Suite struct RegistryTests {
    struct Registry {
        var address: String
        var user: String
        var password: String

        static func fromEnvironment() throws -> Registry {
            let environment = ProcessInfo.processInfo.environment
            guard let address = environment["DEVENV_TEST_REGISTRY"],
                let user = environment["DEVENV_TEST_REGISTRY_USER"],
                let password = environment["DEVENV_TEST_REGISTRY_PASSWORD"]
            else {
                Issue.record("DEVENV_TEST_REGISTRY is not set: run 'make test' (Tests/scripts/registry.sh starts it)")
                throw MissingTestServer()
            }
            return Registry(address: address, user: user, password: password)
        }

        var basicAuth: String { Data("\(user):\(password)".utf8).base64EncodedString() }
        func image(_ tag: String) -> String { "\(address)/devenv-test/private:\(tag)" }
    }

    /// A `$DOCKER_CONFIG` of the test's own, inside the project directory.
    func dockerConfig(_ project: DevenvProject, _ json: String) throws -> String {
        let directory = project.directory + "/docker-config"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try json.write(toFile: directory + "/config.json", atomically: true, encoding: .utf8)
        return directory
    }

    /// The engine forgets the image, so the next up must pull it.
    func forget(_ image: String, _ client: DockerClient) async {
        try? await client.removeImage(image, force: true)
    }

    static func stack(_ image: String) -> String {
        """
        services:
          app:
            image: \(image)
            command: ["sleep", "infinity"]
            init: true
        """
    }

    /// SIGKILL while the image is being pulled: the next `up` pulls (or finds) it and
    /// converges at once, one container (issue #16).
    @Test func aKillWhilePullingConvergesOnTheNextUp() async throws {
        let registry = try Registry.fromEnvironment()
        let image = registry.image("killed-pull")
        try await DevenvProject(files: ["compose.yaml": Self.stack(image)]).run { project in
            await forget(image, project.fixture.client)
            let logged = try dockerConfig(
                project, #"{"auths":{"\#(registry.address)":{"auth":"\#(registry.basicAuth)"}}}"#)
            let point = DevenvProject.KillPoint(service: "app", status: "pulling")
            #expect(try await project.killUp(at: point, environment: ["DOCKER_CONFIG": logged]), "no pull seen")
            let next = try await project.devenv(["up"], environment: ["DOCKER_CONFIG": logged])
            #expect(next.status == 0, "\(next.stderr)")
            #expect(Set(try await project.containers().keys) == ["app"])
            _ = try await project.devenv(["down"])
            await forget(image, project.fixture.client)
        }
    }

    @Test func aPullWithTheLoginFromAuthsAndARefusalWithout() async throws {
        let registry = try Registry.fromEnvironment()
        let image = registry.image("auths")
        try await DevenvProject(files: ["compose.yaml": Self.stack(image)]).run { project in
            await forget(image, project.fixture.client)
            let empty = try dockerConfig(project, "{}")
            let refused = try await project.devenv(["up"], environment: ["DOCKER_CONFIG": empty])
            #expect(refused.status == 1)
            #expect(
                refused.stderr.contains(
                    "registry \(registry.address) refused to hand out \(image) without a valid login"),
                "\(refused.stderr)")
            #expect(refused.stderr.contains("run 'docker login \(registry.address)'"))
            #expect(try await project.containers().isEmpty, "nothing half-made")

            let logged = try dockerConfig(
                project, #"{"auths":{"\#(registry.address)":{"auth":"\#(registry.basicAuth)"}}}"#)
            let up = try await project.devenv(["up"], environment: ["DOCKER_CONFIG": logged])
            #expect(up.status == 0, "\(up.stderr)")
            #expect(try await project.statusRows().first?["state"] as? String == "running")
            for output in [refused.stdout, refused.stderr, up.stdout, up.stderr] {
                #expect(!output.contains(registry.password) && !output.contains(registry.basicAuth))
            }
            _ = try await project.devenv(["down"])
            await forget(image, project.fixture.client)
        }
    }

    @Test func aPullWithACredentialHelper() async throws {
        let registry = try Registry.fromEnvironment()
        let image = registry.image("helper")
        try await DevenvProject(files: ["compose.yaml": Self.stack(image)]).run { project in
            await forget(image, project.fixture.client)
            // docker's helper protocol: `get`, the server on stdin, JSON on stdout.
            let bin = project.directory + "/bin"
            try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
            try """
            #!/bin/sh
            [ "$1" = get ] || exit 3
            read server
            [ "$server" = "\(registry.address)" ] || { echo "credentials not found in native keychain"; exit 1; }
            printf '{"ServerURL":"%s","Username":"\(registry.user)","Secret":"\(registry.password)"}' "$server"
            """.write(toFile: bin + "/docker-credential-devenvtest", atomically: true, encoding: .utf8)
            try "#!/bin/sh\nexit 1\n".write(
                toFile: bin + "/docker-credential-broken", atomically: true, encoding: .utf8)
            chmod(bin + "/docker-credential-devenvtest", 0o755)
            chmod(bin + "/docker-credential-broken", 0o755)
            let path = bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")

            let broken = try dockerConfig(project, #"{"credHelpers":{"\#(registry.address)":"broken"}}"#)
            let failed = try await project.devenv(["up"], environment: ["DOCKER_CONFIG": broken, "PATH": path])
            #expect(failed.status == 1)
            #expect(
                failed.stderr.contains("docker-credential-broken failed for \(registry.address)"), "\(failed.stderr)")
            #expect(try await project.containers().isEmpty)

            let absent = try dockerConfig(project, #"{"credsStore":"nowhere"}"#)
            let missing = try await project.devenv(["up"], environment: ["DOCKER_CONFIG": absent, "PATH": path])
            #expect(missing.status == 1)
            #expect(missing.stderr.contains("docker-credential-nowhere"), "\(missing.stderr)")
            #expect(missing.stderr.contains("is not installed"))

            let helper = try dockerConfig(project, #"{"credHelpers":{"\#(registry.address)":"devenvtest"}}"#)
            let up = try await project.devenv(["up"], environment: ["DOCKER_CONFIG": helper, "PATH": path])
            #expect(up.status == 0, "\(up.stderr)")
            #expect(!up.stderr.contains(registry.password))
            _ = try await project.devenv(["down"])
            await forget(image, project.fixture.client)
        }
    }

    @Test func aBuildFromAPrivateImage() async throws {
        let registry = try Registry.fromEnvironment()
        let base = registry.image("build")
        let files = [
            "compose.yaml": """
            services:
              app:
                build: ./app
                command: ["sleep", "infinity"]
                init: true
            """,
            "app/Dockerfile": "FROM \(base)\nRUN echo built > /built\n",
        ]
        try await DevenvProject(files: files).run { project in
            await forget(base, project.fixture.client)
            let refused = try await project.devenv(
                ["up"], environment: ["DOCKER_CONFIG": try dockerConfig(project, "{}")])
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("docker login \(registry.address)"), "\(refused.stderr)")
            let logged = try dockerConfig(
                project, #"{"auths":{"\#(registry.address)":{"auth":"\#(registry.basicAuth)"}}}"#)
            let up = try await project.devenv(["up"], environment: ["DOCKER_CONFIG": logged])
            #expect(up.status == 0, "\(up.stderr)")
            let built = try await project.devenv(["exec", "app", "--", "cat", "/built"])
            #expect(built.stdout == "built\n")
            _ = try await project.devenv(["down"])
            await forget(base, project.fixture.client)
        }
    }
}
