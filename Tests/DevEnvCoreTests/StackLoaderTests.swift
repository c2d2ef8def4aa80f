import Foundation
import StateStore
import Testing

@testable import DevEnvCore
@testable import DevEnvModel

/// A temporary project directory with the given files.
struct ProjectDirectory {
    let path: String

    init(_ files: [String: String]) throws {
        path = NSTemporaryDirectory() + "devenv-stack-\(UUID().uuidString.prefix(8))/myapp"
        for (name, text) in files {
            let full = path + "/" + name
            try FileManager.default.createDirectory(
                atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }
    }

    func load(
        _ files: [String] = [], project: String? = nil, environment: [String: String] = [:], profiles: [String] = []
    ) throws(StackFileErrors) -> LoadedStack {
        try StackLoader.load(
            StackLoadOptions(
                files: files, projectName: project, workingDirectory: path, environment: environment, profiles: profiles
            ))
    }

    /// The errors of a load that must fail.
    func errors(_ files: [String] = [], environment: [String: String] = [:]) -> [Diagnostic] {
        do {
            _ = try load(files, environment: environment)
            Issue.record("expected the load to fail")
            return []
        } catch {
            return error.diagnostics
        }
    }
}

@Suite struct InterpolationTests {
    let interpolator = Interpolator(environment: ["SET": "value", "EMPTY": "", "PORT": "5432"])

    @Test(arguments: [
        ("plain", "plain"),
        ("$SET", "value"),
        ("${SET}", "value"),
        ("a-${SET}-b", "a-value-b"),
        ("${UNSET:-fallback}", "fallback"),
        ("${EMPTY:-fallback}", "fallback"),
        ("${EMPTY-fallback}", ""),
        ("${UNSET-fallback}", "fallback"),
        ("${SET:+alt}", "alt"),
        ("${UNSET:+alt}", ""),
        ("${UNSET:-${PORT}}", "5432"),
        ("$$SET", "$SET"),
        ("cost: 5$", "cost: 5$"),
        ("${UNSET:-{\"a\": 1}}", "{\"a\": 1}"),
        ("postgres://u@db:${PORT:-1}/x", "postgres://u@db:5432/x"),
    ])
    func expands(_ input: String, _ expected: String) throws {
        #expect(try interpolator.interpolate(input).value == expected)
    }

    @Test func reportsUnsetVariables() throws {
        let result = try interpolator.interpolate("${A}-$B-${SET}")
        #expect(result.value == "--value")
        #expect(result.unset == ["A", "B"])
    }

    @Test func requiredVariables() throws {
        #expect(throws: Interpolator.Failure.required(variable: "DB", message: "set DB first")) {
            try interpolator.interpolate("${DB:?set DB first}")
        }
        #expect(throws: Interpolator.Failure.self) { try interpolator.interpolate("${EMPTY:?}") }
        #expect(try interpolator.interpolate("${EMPTY?}").value == "")
    }

    @Test(arguments: ["${", "${SET", "${}", "${1X}", "${SET:=x}", "${SET:-unclosed"])
    func rejectsMalformedExpressions(_ input: String) {
        #expect(throws: Interpolator.Failure.self) { try interpolator.interpolate(input) }
    }
}

@Suite struct DotEnvTests {
    @Test func parsesTheUsualForms() throws {
        let text = """
            # comment
            A=1
            export B = two words # trailing comment
            C="quoted # not a comment\\nnext"
            D='single $literal'
            E=
            F

            """
        let entries = try DotEnv.parse(text, file: ".env")
        #expect(entries.map(\.key) == ["A", "B", "C", "D", "E", "F"])
        #expect(entries.map(\.value) == ["1", "two words", "quoted # not a comment\nnext", "single $literal", "", nil])
    }

    @Test func namesTheLineOfABadEntry() {
        let error = #expect(throws: Diagnostic.self) { try DotEnv.parse("A=1\nB=\"open\n", file: "/p/.env") }
        #expect(error?.location == SourceLocation(file: "/p/.env", line: 2, column: 1))
    }
}

@Suite struct StackLoaderTests {
    static let dials = """
        name: dials
        x-worker: &worker
          image: debian:bookworm-slim
          command: ["sleep", "infinity"]
          environment:
            CELERY_BROKER_URL: redis://redis-etl:6379/0
          depends_on:
            db: { condition: service_healthy }
        services:
          db:
            image: postgres:15
            environment:
              POSTGRES_PASSWORD: ${PG_PASSWORD:-devpass}
            ports: ["5432"]
            volumes: [pgdata:/var/lib/postgresql/data]
            healthcheck:
              test: pg_isready -U postgres
              interval: 1s
              retries: 30
          csc-bulk:
            <<: *worker
            environment:
              WORKSPACE: csc
          flower:
            image: debian:bookworm-slim
            profiles: [monitoring]
        volumes:
          pgdata:
        """

    @Test func loadsTheDefaultFileWithAnchorsAndMergeKeys() throws {
        let project = try ProjectDirectory(["compose.yaml": Self.dials])
        let loaded = try project.load()
        let stack = loaded.stack
        #expect(stack.name == "dials")
        #expect(stack.services.map(\.name) == ["db", "csc-bulk"])
        #expect(loaded.inactiveServices == ["flower"])
        let worker = try #require(stack.service("csc-bulk"))
        #expect(worker.image == "debian:bookworm-slim")
        #expect(worker.command == ["sleep", "infinity"])
        // The service's own `environment` replaces the anchor's, as YAML merge keys do.
        #expect(worker.environment == ["WORKSPACE": "csc"])
        #expect(worker.dependsOn == [Dependency(service: "db", condition: .healthy, required: true)])
        let db = try #require(stack.service("db"))
        #expect(db.environment["POSTGRES_PASSWORD"] == "devpass")
        #expect(db.ports == [PortMapping(target: 5432, published: nil, hostIP: "127.0.0.1", protocol: "tcp")])
        #expect(
            db.volumes == [
                VolumeMount(type: .volume, source: "pgdata", target: "/var/lib/postgresql/data", readOnly: false)
            ])
        #expect(db.healthcheck?.test == ["CMD-SHELL", "pg_isready -U postgres"])
        #expect(db.healthcheck?.interval == 1)
        #expect(stack.volumes.map(\.engineName) == ["dials_pgdata"])
        #expect(stack.networks.map(\.engineName) == ["dials_default"])
    }

    @Test func profilesEnableServices() throws {
        let project = try ProjectDirectory(["compose.yaml": Self.dials])
        #expect(try project.load(profiles: ["monitoring"]).stack.services.map(\.name) == ["db", "csc-bulk", "flower"])
        #expect(try project.load(environment: ["COMPOSE_PROFILES": "monitoring"]).stack.service("flower") != nil)
    }

    /// A service is a database when declared one or when its image's repository is exactly a
    /// known server's: never by a substring, never by the project's name (issue #16).
    @Test func serviceKindsComeFromDeclarationsAndExactRepositories() throws {
        let project = try ProjectDirectory([
            "compose.yaml": """
            services:
              db: { image: postgres:15 }
              mirrored: { image: "registry.cern.ch/docker.io/library/postgres:15@sha256:\(String(repeating: "a", count: 64))" }
              local: { image: "localhost:5000/postgis/postgis:15-3.4" }
              bitnami: { image: bitnami/redis }
              cache: { image: redis:7 }
              api: { image: postgrest/postgrest }
              exporter: { image: quay.io/prometheuscommunity/postgres-exporter }
              insight: { image: redis/redisinsight }
              mine: { image: gitlab-registry.cern.ch/team/postgres-tools }
              built: { build: . }
              declared: { build: ., x-devenv: { postgres: { databases: [{ name: app }] } } }
            """,
            "Dockerfile": "FROM debian:bookworm-slim\n",
        ])
        let stack = try project.load(project: "postgres-lab").stack
        let kinds = Dictionary(uniqueKeysWithValues: stack.services.map { ($0.name, $0.kind) })
        #expect(
            kinds == [
                "db": .postgres, "mirrored": .postgres, "local": .postgres, "bitnami": .redis, "cache": .redis,
                "api": .other, "exporter": .other, "insight": .other, "mine": .other, "built": .other,
                "declared": .postgres,
            ])
    }

    @Test func projectNamePrecedence() throws {
        let project = try ProjectDirectory(["compose.yaml": Self.dials, ".env": "COMPOSE_PROJECT_NAME=from-dotenv\n"])
        #expect(try project.load(project: "Explicit Name!").stack.name == "explicitname")
        #expect(try project.load(environment: ["COMPOSE_PROJECT_NAME": "from-env"]).stack.name == "from-env")
        #expect(try project.load().stack.name == "from-dotenv")
        let unnamed = try ProjectDirectory(["compose.yaml": "services:\n  a:\n    image: x\n"])
        #expect(try unnamed.load().stack.name == "myapp")
    }

    @Test func dotEnvFeedsInterpolationButTheEnvironmentWins() throws {
        let project = try ProjectDirectory([
            "compose.yaml": "services:\n  a:\n    image: \"debian:${TAG}\"\n    environment: [\"X=${X}\"]\n",
            ".env": "TAG=bookworm-slim\nX=from-file\n",
        ])
        let loaded = try project.load(environment: ["X": "from-env"])
        #expect(loaded.stack.services[0].image == "debian:bookworm-slim")
        #expect(loaded.stack.services[0].environment == ["X": "from-env"])
    }

    @Test func laterFilesOverrideEarlierOnes() throws {
        let project = try ProjectDirectory([
            "compose.yaml": """
            services:
              web:
                image: app:1
                environment: [A=1, B=1]
                ports: ["8000:8000"]
                command: run --old
            """,
            "compose.override.yaml": """
            services:
              web:
                image: app:2
                environment: { B: "2", C: "3" }
                ports: ["127.0.0.1:9000:9000"]
                command: ["run", "--new"]
            """,
        ])
        let web = try project.load(["compose.yaml", "compose.override.yaml"]).stack.services[0]
        #expect(web.image == "app:2")
        #expect(web.environment == ["A": "1", "B": "2", "C": "3"])
        #expect(web.ports.map(\.target) == [8000, 9000])
        #expect(web.command == ["run", "--new"])
    }

    @Test func envFilesAndEnvironment() throws {
        let project = try ProjectDirectory([
            "compose.yaml":
                "services:\n  a:\n    image: x\n    env_file: [app.env]\n    environment:\n      B: override\n      FROM_HOST:\n",
            "app.env": "A=1\nB=from-file\n",
        ])
        let service = try project.load(environment: ["FROM_HOST": "h"]).stack.services[0]
        #expect(service.environment == ["A": "1", "B": "override", "FROM_HOST": "h"])
    }

    @Test(arguments: [
        ("5432", [PortMapping(target: 5432, published: nil, hostIP: "127.0.0.1", protocol: "tcp")]),
        ("8080:80", [PortMapping(target: 80, published: 8080, hostIP: "127.0.0.1", protocol: "tcp")]),
        ("0.0.0.0:53:53/udp", [PortMapping(target: 53, published: 53, hostIP: "0.0.0.0", protocol: "udp")]),
        ("[::1]:6379:6379", [PortMapping(target: 6379, published: 6379, hostIP: "::1", protocol: "tcp")]),
        (
            "9000-9001:8000-8001",
            [
                PortMapping(target: 8000, published: 9000, hostIP: "127.0.0.1", protocol: "tcp"),
                PortMapping(target: 8001, published: 9001, hostIP: "127.0.0.1", protocol: "tcp"),
            ]
        ),
    ])
    func shortPortSyntax(_ spec: String, _ expected: [PortMapping]) {
        #expect(StackParser.parsePortSpec(spec) == expected)
    }

    @Test(arguments: ["", "abc", "1:2:3:4", "70000", "80/icmp", "9000-9002:8000-8001"])
    func badPortSpecs(_ spec: String) {
        #expect(StackParser.parsePortSpec(spec) == nil)
    }

    @Test func longSyntaxAndExposureWarning() throws {
        let project = try ProjectDirectory([
            "compose.yaml": """
            services:
              a:
                image: x
                ports:
                  - target: 80
                    published: 8080
                  - "0.0.0.0:81:81"
                volumes:
                  - ./data:/data:ro
                  - type: tmpfs
                    target: /tmp
            """
        ])
        let loaded = try project.load()
        let service = loaded.stack.services[0]
        #expect(service.ports[0] == PortMapping(target: 80, published: 8080, hostIP: "127.0.0.1", protocol: "tcp"))
        #expect(
            service.volumes[0]
                == VolumeMount(type: .bind, source: project.path + "/data", target: "/data", readOnly: true))
        #expect(service.volumes[1].type == .tmpfs)
        #expect(loaded.warnings.contains { $0.message.contains("0.0.0.0") && $0.location?.line == 7 })
    }

    /// Paths that leave the project, and the engine's socket, are allowed with a warning at
    /// their place; a plain bind mount inside the project is silent.
    @Test func riskyMountsAreWarnings() throws {
        let project = try ProjectDirectory([
            "compose.yaml": """
            services:
              a:
                image: x
                env_file: [../outside.env]
                volumes:
                  - ./inside:/inside
                  - ../../etc:/host-etc:ro
                  - /var/run/docker.sock:/var/run/docker.sock
                  - /:/host
                  - /etc:/x:rw
                  - /home/alice:/alice
                  - /srv/data:/data
            """,
            "../outside.env": "A=1\n",
        ])
        let warnings = try project.load().warnings
        #expect(warnings.contains { $0.message.contains("outside the project directory") && $0.location?.line == 4 })
        #expect(warnings.contains { $0.message.contains("outside the project directory") && $0.location?.line == 7 })
        #expect(warnings.contains { $0.message.contains("mounts the docker socket") && $0.location?.line == 8 })
        #expect(
            warnings.contains { $0.message.contains("bind-mounts /: the whole filesystem") && $0.location?.line == 9 })
        #expect(
            warnings.contains { $0.message.contains("bind-mounts /etc: a system directory") && $0.location?.line == 10 }
        )
        #expect(warnings.contains { $0.message.contains("a whole home directory") && $0.location?.line == 11 })
        #expect(warnings.contains { $0.message.contains("bind-mounts /srv/data: outside") && $0.location?.line == 12 })
        #expect(!warnings.contains { $0.location?.line == 6 })
        #expect(warnings.filter { $0.location?.line == 8 }.count == 1, "one warning a mount")
    }

    @Test func anEnvFileNeverHasItsContentQuotedAndItsWarningStays() throws {
        let secret = NSTemporaryDirectory() + "devenv-shadow-\(UUID().uuidString.prefix(8))"
        try "root:$y$j9T$HASHHASHHASH:19000:0:99999:7:::\n".write(toFile: secret, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: secret) }
        let project = try ProjectDirectory([
            "compose.yaml": "services:\n  a:\n    image: x\n    env_file: \(secret)\n"
        ])
        let diagnostics = project.errors()
        #expect(diagnostics.contains { $0.severity == .error && $0.location?.line == 1 && $0.location?.file == secret })
        #expect(
            diagnostics.contains { $0.severity == .warning && $0.message.contains("outside the project directory") })
        #expect(!diagnostics.contains { $0.description.contains("HASH") || $0.description.contains("root:") })
    }

    /// Hostile sizes: nesting beyond libyaml's limit and files past 8 MB are errors naming the
    /// file, not a crash or the machine's memory.
    @Test func deepNestingAndHugeFilesAreErrors() throws {
        let depth = 100_000
        let deep = try ProjectDirectory([
            "compose.yaml": "services:\n  a:\n    image: x\n    labels: "
                + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "\n"
        ])
        #expect(throws: StackFileErrors.self) { try deep.load() }
        let huge = try ProjectDirectory([
            "compose.yaml": "services:\n  a:\n    image: x\n    environment:\n      BIG: \""
                + String(repeating: "x", count: 9 << 20) + "\"\n"
        ])
        do {
            _ = try huge.load()
            Issue.record("a 9 MB stack file loaded")
        } catch {
            #expect(
                error.description.contains(
                    "compose.yaml:1:1: error: the file is 9.0 MiB (9437243 bytes); a stack file is read whole, at most 8 MiB (8388608 bytes)"
                ), "\(error)")
        }
    }

    @Test func unknownKeysAreWarningsWithTheirPlace() throws {
        let project = try ProjectDirectory([
            "compose.yaml": "services:\n  a:\n    image: x\n    colour: blue\n    logging: {}\nfoo: 1\n"
        ])
        let warnings = try project.load().warnings
        #expect(
            warnings.map(\.description).contains {
                $0.hasSuffix("compose.yaml:4:5: warning: unknown key 'colour' in services.a (ignored)")
            })
        #expect(warnings.contains { $0.message.contains("logging is not supported") && $0.location?.line == 5 })
        #expect(
            warnings.contains { $0.message.contains("'foo'") && $0.location?.line == 6 && $0.location?.column == 1 })
    }

    @Test func everyErrorIsReportedWithFileLineAndColumn() throws {
        let project = try ProjectDirectory([
            "compose.yaml": """
            services:
              web:
                image: x
                ports: 5432
                depends_on: [nowhere]
              noimage:
                command: true
              a:
                image: x
                depends_on: [b]
              b:
                image: x
                depends_on: { a: { condition: service_healthy } }
              env:
                image: "${NEEDED:?set NEEDED to the tag}"
                volumes: ["undeclared:/data"]
                healthcheck: { test: [WRONG], interval: soon }
            """
        ])
        let errors = project.errors()
        let file = project.path + "/compose.yaml"
        // Interpolation errors come first: they stop before the model is read.
        #expect(errors.map(\.description) == ["\(file):15:12: error: set NEEDED to the tag (variable NEEDED)"])
        let rest = project.errors(environment: ["NEEDED": "x"]).map(\.description)
        #expect(rest.contains("\(file):4:12: error: services.web.ports must be a list, found a number"))
        #expect(rest.contains("\(file):6:3: error: service 'noimage' needs 'image' or 'build'"))
        #expect(
            rest.contains("\(file):16:15: error: volume 'undeclared' is not declared under the top-level 'volumes:'"))
        #expect(
            rest.contains(
                "\(file):17:27: error: services.env.healthcheck.test as a list must start with CMD, CMD-SHELL or NONE"))
        #expect(
            rest.contains(
                "\(file):17:45: error: services.env.healthcheck.interval must be a duration such as 30s, 1m30s or 500ms, found a string"
            ))
        #expect(
            rest.contains(
                "\(file):5:18: error: service 'web' depends on 'nowhere', which is not a service of this stack"))
        #expect(rest.contains("\(file):13:19: error: depends_on forms a cycle: a -> b -> a"))
        #expect(rest.count == 7)
    }

    @Test func badYAMLNamesItsPlace() throws {
        let project = try ProjectDirectory(["compose.yaml": "services:\n  a:\n    image: [unclosed\n"])
        let errors = project.errors()
        #expect(errors.count == 1)
        #expect(errors[0].location?.file == project.path + "/compose.yaml")
        #expect(errors[0].location?.line == 4)
        #expect(errors[0].message.hasPrefix("not valid YAML"))
    }

    @Test func aliasBombsAreRefused() throws {
        var text = "a: &a [\"x\", \"x\", \"x\", \"x\", \"x\", \"x\", \"x\", \"x\", \"x\", \"x\"]\n"
        for level in 1...7 {
            let previous = level == 1 ? "a" : "l\(level - 1)"
            text +=
                "l\(level): &l\(level) [" + Array(repeating: "*\(previous)", count: 10).joined(separator: ", ") + "]\n"
        }
        text += "services:\n  a:\n    image: x\n"
        let project = try ProjectDirectory(["compose.yaml": text])
        let errors = project.errors()
        #expect(errors.first?.message.contains("expands to more than") == true)
    }

    @Test func missingFilesSayWhereTheyLooked() throws {
        let project = try ProjectDirectory(["README": "no stack here"])
        #expect(project.errors().first?.message.contains("looked for compose.yaml, compose.yml") == true)
        #expect(project.errors(["other.yaml"]).first?.message.contains("other.yaml does not exist") == true)
    }

    @Test func commandStringsSplitLikeAShell() {
        #expect(ShellWords.split(#"sh -c "echo 'hi there'; exit 3""#) == ["sh", "-c", "echo 'hi there'; exit 3"])
        #expect(ShellWords.split(#"a\ b 'c d' "e\"f""#) == ["a b", "c d", "e\"f"])
        #expect(ShellWords.split("unclosed 'quote") == nil)
    }

    @Test(arguments: [("30s", 30.0), ("1m30s", 90.0), ("500ms", 0.5), ("1h", 3600.0), ("2", 2.0)])
    func durations(_ text: String, _ seconds: Double) {
        #expect(StackParser.parseDuration(text) == seconds)
    }
}

@Suite struct TemplateTests {
    static let stackText = """
        services:
          db:
            image: postgres:15
            x-devenv:
              postgres:
                roles:
                  - name: app
                  - name: given
                    password: s3cret
          redis:
            image: redis:7
            x-devenv:
              redis: { password: generated }
          web:
            image: x
            x-devenv:
              env:
                DATABASE_URL: "postgres://app:{{ db.roles.app.password }}@db/app"
                BROKER: "redis://:{{redis.password}}@redis:6379/1"
                GIVEN: "{{ db.roles.given.password }}"
        """

    @Test func resolvesDeclaredAndGeneratedValuesStably() throws {
        let project = try ProjectDirectory(["compose.yaml": Self.stackText])
        let stack = try project.load().stack
        let statePath = NSTemporaryDirectory() + "devenv-tmpl-\(UUID().uuidString)/state.db"
        let resolver = TemplateResolver(stack: stack, store: try StateStore(path: statePath))
        let env = try #require(stack.service("web")?.devenv?.env)
        let url = try resolver.render(env["DATABASE_URL"]!)
        #expect(url.hasPrefix("postgres://app:") && url.hasSuffix("@db/app"))
        #expect(try resolver.render(env["GIVEN"]!) == "s3cret")
        // Stable across resolvers and store reopenings.
        let again = TemplateResolver(stack: stack, store: try StateStore(path: statePath))
        #expect(try again.render(env["DATABASE_URL"]!) == url)
        let broker = try again.render(env["BROKER"]!)
        #expect(broker.count == "redis://:@redis:6379/1".count + 32)
    }

    @Test func unknownReferencesAreErrors() throws {
        let project = try ProjectDirectory(["compose.yaml": Self.stackText])
        let stack = try project.load().stack
        let resolver = TemplateResolver(
            stack: stack, store: try StateStore(path: NSTemporaryDirectory() + "devenv-tmpl-\(UUID().uuidString)/s.db"))
        #expect(throws: TemplateResolver.Failure.self) { try resolver.render("{{ nosuch.password }}") }
        #expect(throws: TemplateResolver.Failure.self) { try resolver.render("{{ db.roles.app.colour }}") }
    }

    @Test func badTemplateSyntaxIsAFileError() throws {
        let project = try ProjectDirectory([
            "compose.yaml": "services:\n  a:\n    image: x\n    x-devenv:\n      env:\n        A: \"{{ db.password\"\n"
        ])
        let errors = project.errors()
        #expect(errors.first?.message.contains("'{{' without a closing '}}'") == true)
        #expect(errors.first?.location?.line == 6)
    }

    @Test func aMigrateCommandIsAStringOrAList() throws {
        let project = try ProjectDirectory([
            "compose.yaml": """
            services:
              a: { image: x, x-devenv: { migrate: "psql -c 'CREATE TABLE t (id int)'" } }
              b: { image: x, x-devenv: { migrate: [alembic, upgrade, head] } }
            """
        ])
        let stack = try project.load().stack
        #expect(stack.service("a")?.devenv?.migrate == ["psql", "-c", "CREATE TABLE t (id int)"])
        #expect(stack.service("b")?.devenv?.migrate == ["alembic", "upgrade", "head"])
        let bad = try ProjectDirectory([
            "compose.yaml": "services:\n  a:\n    image: x\n    x-devenv:\n      migrate: { run: yes }\n"
        ])
        let errors = bad.errors()
        #expect(errors.first?.message.contains("migrate") == true)
        #expect(errors.first?.location?.line == 5)
    }

    @Test func aSettleTimeIsADurationUpToTenMinutes() throws {
        let project = try ProjectDirectory([
            "compose.yaml": """
            services:
              a: { image: x, x-devenv: { settle: 2500ms } }
              b: { image: x }
            """
        ])
        let stack = try project.load().stack
        #expect(stack.service("a")?.settle == 2.5)
        #expect(stack.service("b")?.settle == Service.defaultSettle)
        for bad in ["soon", "-1", "11m"] {
            let project = try ProjectDirectory([
                "compose.yaml": "services:\n  a:\n    image: x\n    x-devenv:\n      settle: \(bad)\n"
            ])
            let errors = project.errors()
            #expect(errors.first?.message.contains("settle") == true, "\(bad): \(errors)")
            #expect(errors.first?.location?.line == 5)
        }
    }
}
