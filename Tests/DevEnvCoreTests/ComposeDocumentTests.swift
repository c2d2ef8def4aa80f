import Foundation
import Testing

@testable import DevEnvCore
@testable import DevEnvModel
@testable import DevEnvRender

/// `devenv config` as canonical Compose (issue #18), and what reading the corpus found: keys
/// of networks and volumes that were dropped without a word, two mounts at one path, override
/// files that mounted the same path twice, and symbolic links followed on this machine.
struct ComposeDocumentTests {
    @Test func servicesNetworksAndVolumesAreMappingsInComposeForm() throws {
        let stack = try ProjectDirectory([
            "compose.yaml": """
            name: shop
            services:
              web:
                image: nginx
                command: nginx -g 'daemon off;'
                ports: ["8080:80", "0.0.0.0::443/udp"]
                volumes: ["./html:/usr/share/nginx/html:ro,z", "cache:/cache", /anonymous]
                environment: { PRICE: "$$5", EMPTY: "" }
                depends_on: { db: { condition: service_healthy } }
                healthcheck: { test: curl -f localhost, interval: 90s, timeout: 1500ms }
                networks: { front: { aliases: [www] } }
                stop_grace_period: 1m
              db:
                image: postgres:15
                x-devenv: { env: { URL: "{{ db.url }}" } }
            networks: { front: {} }
            volumes: { cache: { name: shared-cache } }
            """
        ]).load().stack
        let yaml = YAMLWriter.document(ComposeDocument.value(stack))
        for line in [
            "name: shop\n", "services:\n  web:\n    image: nginx\n", "    - nginx\n    - -g\n    - daemon off;\n",
            "    - 127.0.0.1:8080:80/tcp\n", "    - 0.0.0.0::443/udp\n",
            "    - /tmp/", "/usr/share/nginx/html:ro,z\n", "    - cache:/cache\n", "    - /anonymous\n",
            "      PRICE: $$5\n", "      db:\n        condition: service_healthy\n", "      interval: 1m30s\n",
            "      timeout: 1500ms\n", "      front:\n        aliases:\n        - www\n", "    stop_grace_period: 1m\n",
            "    x-devenv:\n      env:\n        URL: '{{ db.url }}'\n", "  cache:\n    name: shared-cache\n",
        ] {
            #expect(yaml.contains(line), "\(line) in \(yaml)")
        }
        #expect(!yaml.contains("x-devenv-"))
        // JSON is the same tree.
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(ComposeDocument.value(stack).json().utf8)) as? [String: Any])
        let web = try #require((json["services"] as? [String: Any])?["web"] as? [String: Any])
        #expect(web["environment"] as? [String: String] == ["PRICE": "$$5", "EMPTY": ""])
        #expect(web["ports"] as? [String] == ["127.0.0.1:8080:80/tcp", "0.0.0.0::443/udp"])
    }

    @Test func durationsAreComposeDurations() {
        #expect(ComposeDocument.duration(0) == "0s")
        #expect(ComposeDocument.duration(90) == "1m30s")
        #expect(ComposeDocument.duration(3600) == "1h")
        #expect(ComposeDocument.duration(1.5) == "1500ms")
    }

    @Test func networkAndVolumeSettingsDevenvCannotApplyAreRefusedWithTheirPlace() throws {
        let errors = try ProjectDirectory([
            "compose.yaml": """
            services:
              a:
                image: x
                networks:
                  dns: { ipv4_address: 172.20.0.2, priority: 10 }
            networks:
              dns:
                ipam: { config: [{ subnet: 172.20.0.0/24 }] }
                internal: true
            volumes:
              nfs: { driver: nfs, driver_opts: { type: nfs } }
              plain: { driver: local }
            """
        ]).errors().map(\.description)
        for (place, key) in [
            ("5:14", "services.a.networks.dns.ipv4_address"), ("8:5", "networks.dns.ipam"),
            ("9:5", "networks.dns.internal"), ("11:10", "volumes.nfs.driver"), ("11:23", "volumes.nfs.driver_opts"),
        ] {
            #expect(
                errors.contains { $0.contains("compose.yaml:\(place): error: \(key) is not supported by devenv yet") },
                "\(key): \(errors)")
        }
        #expect(!errors.contains { $0.contains("error:") && ($0.contains("priority") || $0.contains("plain")) })
        #expect(
            errors.contains {
                $0.contains("warning: services.a.networks.dns.priority is not supported by devenv and is ignored")
            })
    }

    @Test func twoMountsAtOnePathAreAnErrorButAnOverrideReplacesOne() throws {
        let errors = try ProjectDirectory([
            "compose.yaml":
                "services:\n  a:\n    image: x\n    volumes: [./etc:/data, data:/data/]\nvolumes: { data: {} }\n"
        ]).errors().map(\.description)
        #expect(
            errors.contains { $0.contains("compose.yaml:4:28: error: services.a.volumes mounts two things at /data/") })

        let stack = try ProjectDirectory([
            "compose.yaml": "services:\n  a:\n    image: x\n    volumes: [./src:/app, ./logs:/logs]\n",
            "compose.override.yaml": "services:\n  a:\n    volumes: [{ type: bind, source: ./dev, target: /app }]\n",
        ]).load().stack
        let mounts = try #require(stack.service("a")).volumes
        #expect(mounts.map(\.target) == ["/logs", "/app"])
        #expect(mounts.last?.source?.hasSuffix("/myapp/dev") == true)
    }

    @Test func pathsAreTextNeverThisMachinesSymbolicLinks() throws {
        #expect(Paths.lexical("/var/run/../run/./docker.sock") == "/var/run/docker.sock")
        #expect(Paths.lexical("/a//b/../../..") == "/")
        #expect(Paths.lexical("a/../../b/") == "../b")
        // /var/run is a link to /run on this machine; the engine's host may differ.
        let stack = try ProjectDirectory([
            "compose.yaml": "services:\n  a:\n    image: x\n    volumes: [/var/run/docker.sock:/var/run/docker.sock]\n"
        ]).load().stack
        #expect(stack.service("a")?.volumes.first?.source == "/var/run/docker.sock")
    }

    @Test func developWatchRulesAreReadAndBadOnesLocated() throws {
        let stack = try ProjectDirectory([
            "compose.yaml": """
            services:
              web:
                image: x
                develop:
                  watch:
                    - { action: sync, path: ./src, target: /app, ignore: [node_modules/] }
                    - { action: rebuild, path: package.json }
            """
        ]).load().stack
        let rules = try #require(stack.service("web")?.watch)
        #expect(rules.map(\.action) == [.sync, .rebuild])
        #expect(
            rules[0].path.hasSuffix("/myapp/src") && rules[0].target == "/app" && rules[0].ignore == ["node_modules/"])
        #expect(
            YAMLWriter.document(ComposeDocument.value(stack)).contains(
                "    develop:\n      watch:\n      - action: sync\n"))

        let errors = try ProjectDirectory([
            "compose.yaml": """
            services:
              web:
                image: x
                develop:
                  watch:
                    - { action: sync+exec, path: ./src }
                    - { action: sync, path: ./src }
                    - { path: ./src, target: /app }
            """
        ]).errors().map(\.description)
        for (place, text) in [
            ("6:21", "'sync+exec' is not supported by devenv yet"), ("7:11", "sync needs a target"),
            ("8:11", "needs an action"),
        ] {
            #expect(errors.contains { $0.contains("compose.yaml:\(place): error:") && $0.contains(text) }, "\(errors)")
        }
    }
}
