import DockerEngine
import Foundation
import Testing

@Suite(.serialized) struct EngineIntegrationTests {
    @Test func negotiatesAndDescribesTheEngine() async throws {
        let engine = try await EngineFixture()
        let version = try await engine.client.version()
        let negotiated = try await engine.client.apiVersion()
        #expect(DockerClient.compareVersions(negotiated, version.ApiVersion) <= 0)
        #expect(DockerClient.compareVersions(negotiated, DockerClient.maxAPIVersion) <= 0)
        let info = try await engine.client.info()
        #expect(info.Driver?.isEmpty == false)
    }

    @Test func containerLifecycleWithLogsAndExec() async throws {
        try await EngineFixture().run { engine in
            let docker = engine.client
            let name = engine.project + "-app-1"
            let id = try await engine.createContainer(
                ["sh", "-c", "echo to-stdout; sleep 0.2; echo to-stderr >&2; exec sleep 600"], name: name)
            try await docker.startContainer(id)
            try await docker.startContainer(id)  // starting twice is fine

            let listed = try await docker.listContainers(labels: ["com.docker.compose.project": engine.project])
            #expect(listed.map(\.Id) == [id])
            #expect(listed.first?.Names == ["/" + name])
            #expect(
                try await docker.listContainers(labels: ["com.docker.compose.project": "not-" + engine.project]).isEmpty
            )

            let inspected = try await docker.inspectContainer(name)
            #expect(inspected.State.Running)
            #expect(inspected.Config?.Labels?["dev.devenv.test"] == "integration")

            // Logs: wait until both lines are there, then check they came on their own streams.
            var frames: [OutputFrame] = []
            for _ in 0..<50 {
                frames = []
                for try await frame in try await docker.logs(id) { frames.append(frame) }
                if frames.count >= 2 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(frames.contains(OutputFrame(stream: .stdout, payload: Data("to-stdout\n".utf8))))
            #expect(frames.contains(OutputFrame(stream: .stderr, payload: Data("to-stderr\n".utf8))))
            var tail: [OutputFrame] = []
            for try await frame in try await docker.logs(id, options: .init(tail: 1)) { tail.append(frame) }
            // The last line the engine logged (its two streams are copied apart, so under load the
            // stdout line can be logged after the stderr one, 200 ms notwithstanding).
            #expect(tail == frames.suffix(1), "\(frames)")

            let exec = try await docker.exec(
                container: id, config: ExecConfig(cmd: ["sh", "-c", "cat /etc/debian_version; echo oops >&2; exit 3"]))
            #expect(exec.exitCode == 3)
            #expect(exec.stdoutText.hasPrefix("12"))
            #expect(exec.stderrText == "oops\n")
            let env = try await docker.exec(
                container: id,
                config: ExecConfig(cmd: ["sh", "-c", "echo $GREETING; pwd"], env: ["GREETING=hi"], workingDir: "/tmp"))
            #expect(env.stdoutText == "hi\n/tmp\n")

            try await docker.killContainer(id, signal: "SIGKILL")
            let waited = try await docker.waitContainer(id)
            #expect(waited.StatusCode == 137)
            try await docker.stopContainer(id, timeout: 1)  // stopping a stopped container is fine
            try await docker.removeContainer(id)
            let gone = await #expect(throws: DockerEngineError.self) { _ = try await docker.inspectContainer(id) }
            #expect(gone?.isNotFound == true)
        }
    }

    @Test func waitReturnsTheExitCodeAndAttachStreamsOutput() async throws {
        try await EngineFixture().run { engine in
            let docker = engine.client
            let id = try await engine.createContainer(["sh", "-c", "sleep 0.5; echo attached; echo err >&2; exit 7"])
            let attached = try await docker.attach(id)
            try await docker.startContainer(id)
            var frames: [OutputFrame] = []
            for try await frame in attached { frames.append(frame) }
            #expect(frames.contains(OutputFrame(stream: .stdout, payload: Data("attached\n".utf8))))
            #expect(frames.contains(OutputFrame(stream: .stderr, payload: Data("err\n".utf8))))
            #expect(try await docker.waitContainer(id).StatusCode == 7)
            let state = try await docker.inspectContainer(id).State
            #expect(state.Status == "exited")
            #expect(state.ExitCode == 7)
        }
    }

    @Test func ttyContainersStreamRawOutput() async throws {
        try await EngineFixture().run { engine in
            let docker = engine.client
            let id = try await engine.createContainer(["sh", "-c", "echo raw-tty"], tty: true)
            try await docker.startContainer(id)
            _ = try await docker.waitContainer(id)
            var text = ""
            for try await frame in try await docker.logs(id, tty: true) { text += frame.text }
            #expect(text == "raw-tty\r\n")
        }
    }

    @Test func manyBlockingCallsDoNotStallTheClient() async throws {
        try await EngineFixture().run { engine in
            let docker = engine.client
            let id = try await engine.createContainer(["sleep", "600"])
            try await docker.startContainer(id)
            // More blocked long-polls than the cooperative pool has threads.
            let waits = (0..<(ProcessInfo.processInfo.activeProcessorCount * 4)).map { _ in
                Task { try await docker.waitContainer(id).StatusCode }
            }
            try await Task.sleep(for: .milliseconds(200))
            _ = try await docker.ping()
            let running = try await docker.inspectContainer(id).State.Running
            #expect(running, "the ping answered while every wait still blocked")
            try await docker.killContainer(id)
            for wait in waits { #expect(try await wait.value == 137) }
        }
    }

    @Test func buildsAnImageFromATarContext() async throws {
        try await EngineFixture().run { engine in
            let docker = engine.client
            let tag = "devenv-it-build:" + engine.project
            var context = TarArchive()
            try context.addFile(
                "Dockerfile",
                Data(
                    "FROM debian:bookworm-slim\nARG GREETING\nCOPY app/hello.txt /hello.txt\nRUN test \"$(cat /hello.txt)\" = \"$GREETING\"\nCMD [\"cat\", \"/hello.txt\"]\n"
                        .utf8))
            try context.addDirectory("app")
            try context.addFile("app/hello.txt", Data("bonjour".utf8))
            var lines: [String] = []
            for try await event in try await docker.buildImage(
                context: context.data(),
                options: .init(tags: [tag], buildArgs: ["GREETING": "bonjour"], labels: engine.labels))
            {
                if let text = event.stream { lines.append(text) }
            }
            // Labels are applied as extra steps by the classic builder.
            #expect(
                lines.contains { $0.hasPrefix("Step 1/") && $0.hasSuffix(": FROM debian:bookworm-slim") }, "\(lines)")
            #expect(lines.contains { $0.hasPrefix("Successfully tagged \(tag)") })
            let image = try #require(await docker.imageIfPresent(tag))
            #expect(image.Config?.Labels?["com.docker.compose.project"] == engine.project)
            #expect(try await docker.listImages(labels: ["com.docker.compose.project": engine.project]).count == 1)

            var config = ContainerConfig(image: tag)
            config.Labels = engine.labels
            let run = try await docker.createContainer(name: nil, config: config).Id
            try await docker.startContainer(run)
            #expect(try await docker.waitContainer(run).StatusCode == 0)
            var output = ""
            for try await frame in try await docker.logs(run) { output += frame.text }
            #expect(output == "bonjour")
            try await docker.removeContainer(run, force: true)
            try await docker.removeImage(tag, force: true)
            #expect(try await docker.imageIfPresent(tag) == nil)
        }
    }

    @Test func aFailingBuildReportsTheStepsError() async throws {
        let engine = try await EngineFixture()
        var context = TarArchive()
        try context.addFile("Dockerfile", Data("FROM debian:bookworm-slim\nRUN echo about to fail && exit 42\n".utf8))
        let error = await #expect(throws: DockerEngineError.self) {
            for try await _ in try await engine.client.buildImage(
                context: context.data(), options: .init(tags: ["devenv-it-fail:" + engine.project]))
            {}
        }
        #expect(error?.code == .stream)
        #expect(error?.message.contains("returned a non-zero code: 42") == true)
    }

    @Test func aRefusedPullIsAnAPIError() async throws {
        // A registry on loopback where nothing listens: refused at once, no traffic leaves the machine.
        let engine = try await EngineFixture()
        let error = await #expect(throws: DockerEngineError.self) {
            for try await _ in try await engine.client.pullImage("127.0.0.1:1/devenv/nothing:1") {}
        }
        #expect(error?.code == .api || error?.code == .stream)
        #expect(error?.message.contains("127.0.0.1:1") == true)
    }

    @Test func inspectingAMissingImageIsNotFound() async throws {
        let engine = try await EngineFixture()
        #expect(try await engine.client.imageIfPresent("devenv-it-absent:" + engine.project) == nil)
        #expect(try await engine.client.imageIfPresent("debian:bookworm-slim") != nil)
    }

    @Test func networksAndVolumes() async throws {
        try await EngineFixture().run { engine in
            let docker = engine.client
            let networkName = engine.project + "_default"
            let networkID = try await docker.createNetwork(NetworkCreate(name: networkName, labels: engine.labels))
            #expect(try await docker.inspectNetwork(networkName).Id == networkID)
            #expect(
                try await docker.listNetworks(labels: ["com.docker.compose.project": engine.project]).map(\.Name) == [
                    networkName
                ])

            let volume = try await docker.createVolume(
                VolumeCreate(name: engine.project + "_pgdata", labels: engine.labels))
            #expect(try await docker.inspectVolume(volume.Name).Labels?["com.docker.compose.project"] == engine.project)
            #expect(
                try await docker.listVolumes(labels: ["com.docker.compose.project": engine.project]).map(\.Name) == [
                    volume.Name
                ])

            // A container on the network, with the volume, reachable by its alias from another.
            var config = ContainerConfig(image: "debian:bookworm-slim")
            config.Cmd = ["sh", "-c", "echo kept > /data/file; exec sleep 600"]
            config.Labels = engine.labels
            config.StopSignal = "SIGKILL"
            var host = HostConfig()
            host.NetworkMode = networkName
            host.Mounts = [Mount(type: "volume", source: volume.Name, target: "/data")]
            config.HostConfig = host
            config.NetworkingConfig = NetworkingConfig(endpoints: [networkName: EndpointSettings(aliases: ["db"])])
            let server = try await docker.createContainer(name: engine.project + "-db-1", config: config).Id
            try await docker.startContainer(server)
            let lookup = try await engine.createContainer(["getent", "hosts", "db"])
            try await docker.connectNetwork(networkName, container: lookup)
            try await docker.startContainer(lookup)
            #expect(try await docker.waitContainer(lookup).StatusCode == 0)
            let data = try await docker.exec(container: server, config: ExecConfig(cmd: ["cat", "/data/file"]))
            #expect(data.stdoutText == "kept\n")

            let busy = await #expect(throws: DockerEngineError.self) { try await docker.removeVolume(volume.Name) }
            #expect(busy?.isConflict == true)
            try await docker.removeContainer(server, force: true)
            try await docker.removeContainer(lookup, force: true)
            try await docker.removeVolume(volume.Name)
            try await docker.removeNetwork(networkID)
            #expect(try await docker.listVolumes(labels: ["com.docker.compose.project": engine.project]).isEmpty)
            #expect(try await docker.listNetworks(labels: ["com.docker.compose.project": engine.project]).isEmpty)
        }
    }
}
