import DockerEngine
import Foundation
import Testing

@testable import DevEnvCore
@testable import DevEnvOrchestration

/// Where devenv connects from this machine, and where it asks the engine to publish.
@Suite struct HostEndpointsTests {
    func endpoints(
        _ dockerHost: String, environment: [String: String] = [:], addresses: [String: [String]] = [:],
        sshHostName: String? = nil
    ) throws -> HostEndpoints {
        HostEndpoints(
            connection: EngineConnection(endpoint: try EngineEndpoint(dockerHost: dockerHost)),
            settings: Settings(environment: environment), resolve: { addresses[$0] ?? [] },
            sshHostName: { _ in sshHostName })
    }

    @Test func aLocalEnginePublishesOnLoopbackAndIsReachedThere() throws {
        for host in ["unix:///var/run/docker.sock", "unix:///run/user/1000/podman/podman.sock", "tcp://127.0.0.1:2375"]
        {
            let local = try endpoints(host)
            #expect(!local.isRemote)
            #expect(local.publishAddress == "127.0.0.1" && local.reachableHost == "127.0.0.1")
            #expect(local.host(forBinding: "0.0.0.0") == "127.0.0.1")
            #expect(local.host(forBinding: "") == "127.0.0.1")
            #expect(local.host(forBinding: "192.168.1.5") == "192.168.1.5")
        }
    }

    @Test func aRemoteEnginePublishesOnItsOwnAddress() throws {
        let dind = try endpoints("tcp://docker:2376", addresses: ["docker": ["172.18.0.3"]])
        #expect(dind.isRemote)
        #expect(dind.reachableHost == "docker")
        #expect(dind.publishAddress == "172.18.0.3")
        // Its loopback and "anywhere" are the engine host's, reached by its name.
        #expect(dind.host(forBinding: "127.0.0.1") == "docker")
        #expect(dind.host(forBinding: "0.0.0.0") == "docker")
        #expect(dind.host(forBinding: "172.18.0.3") == "172.18.0.3")
        #expect(!dind.unresolvable)

        let natted = try endpoints(
            "tcp://build.example:2376", environment: ["DEVENV_PUBLISH_ADDRESS": "0.0.0.0"],
            addresses: ["build.example": ["203.0.113.9"]])
        #expect(natted.publishAddress == "0.0.0.0")
        #expect(natted.host(forBinding: "0.0.0.0") == "build.example")

        let unknown = try endpoints("tcp://nowhere.invalid:2376")
        #expect(unknown.unresolvable)
        #expect(unknown.publishAddress == "0.0.0.0")
        let named = try endpoints(
            "tcp://nowhere.invalid:2376", environment: ["DEVENV_ENGINE_ADDRESS": "10.1.2.3"],
            addresses: ["10.1.2.3": ["10.1.2.3"]])
        #expect(!named.unresolvable && named.reachableHost == "10.1.2.3" && named.publishAddress == "10.1.2.3")
    }

    @Test func anSSHAliasIsLookedUpWhereSSHWouldGo() throws {
        let ssh = try endpoints(
            "ssh://ci@buildhost", addresses: ["10.0.0.7": ["10.0.0.7"]], sshHostName: "10.0.0.7")
        #expect(ssh.isRemote && ssh.reachableHost == "10.0.0.7" && ssh.publishAddress == "10.0.0.7")
        let toLoopback = try endpoints("ssh://me@localhost", sshHostName: "localhost")
        #expect(!toLoopback.isRemote && toLoopback.publishAddress == "127.0.0.1")
    }

    @Test func databasesAlwaysGetAPortAndRemoteLoopbackBindingsMove() throws {
        let project = try ProjectDirectory([
            "compose.yaml": """
            services:
              db:
                image: postgres:15
              cache:
                image: redis:7
              web:
                image: nginx:1.22
                ports: ["8080:80"]
              published:
                image: postgres:15
                ports: ["127.0.0.1:55432:5432"]
            """
        ])
        let stack = try project.load().stack
        let local = stack.reachable(from: try endpoints("unix:///var/run/docker.sock"))
        #expect(
            local.service("db")?.ports == [
                PortMapping(target: 5432, published: nil, hostIP: "127.0.0.1", protocol: "tcp")
            ])
        #expect(local.service("cache")?.ports.map(\.target) == [6379])
        #expect(local.service("web")?.ports == stack.service("web")?.ports)
        #expect(local.service("published")?.ports == stack.service("published")?.ports)

        let remote = stack.reachable(from: try endpoints("tcp://docker:2376", addresses: ["docker": ["172.18.0.3"]]))
        #expect(remote.service("db")?.ports.first?.hostIP == "172.18.0.3")
        #expect(remote.service("web")?.ports.first?.hostIP == "172.18.0.3")
        #expect(remote.service("published")?.ports.first?.hostIP == "172.18.0.3")
        #expect(remote.service("published")?.ports.first?.published == 55432)
    }

    @Test func imagesAreNamedAsTheFileNamesThem() {
        #expect(Orchestrator.declaredImage("localhost/postgres:15", declared: "postgres:15") == "postgres:15")
        #expect(Orchestrator.declaredImage("docker.io/library/redis:7", declared: "redis:7") == "redis:7")
        #expect(Orchestrator.declaredImage("localhost/other:1", declared: "postgres:15") == "localhost/other:1")
    }
}
