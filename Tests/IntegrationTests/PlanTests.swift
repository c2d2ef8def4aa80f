import DockerEngine
import Foundation
import TestSupport
import Testing

/// `devenv plan` and `up --dry-run` as a user reads them, on every engine (issue #16).
@Suite struct PlanTests {
    static let files: [String: String] = [
        "compose.yaml": """
        services:
          cache:
            image: redis:7
            x-devenv: { redis: { password: generated } }
          web:
            build: ./web
            command: ["sleep", "infinity"]
            init: true
            environment: { MODE: one, API_TOKEN: first-token-value }
            depends_on: [cache]
            volumes: ["data:/data"]
        volumes:
          data:
        """,
        "web/Dockerfile": "FROM debian:bookworm-slim\nCOPY . /app\n",
        "web/main.py": "print(1)\n",
    ]

    func plan(_ project: DevenvProject, _ extra: [String] = []) async throws -> [String: (String, [String])] {
        let result = try await project.devenv(["plan", "--json"] + extra)
        #expect(result.status == 0, "\(result.stderr)")
        let steps = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]] ?? []
        var byService: [String: (String, [String])] = [:]
        for step in steps {
            byService[step["service"] as? String ?? "?"] = (
                step["action"] as? String ?? "?", step["reasons"] as? [String] ?? []
            )
        }
        return byService
    }

    @Test(arguments: TestEngine.all)
    func planExplainsEveryChangeAndTouchesNothing(engine: TestEngine) async throws {
        try await DevenvProject(files: Self.files, engine: engine).run { project in
            // Before anything exists: everything to create, and nothing made by asking.
            let first = try await plan(project)
            #expect(first["cache"]?.0 == "create")
            #expect(first["web"]?.0 == "create")
            #expect(first["web"]?.1.contains("image \(project.name)-web will be built") == true, "\(first)")
            #expect(first["web"]?.1.contains("volume \(project.name)_data will be created") == true, "\(first)")
            #expect(first["cache"]?.1.contains("network \(project.name)_default will be created") == true, "\(first)")
            let labels = ["com.docker.compose.project": project.name]
            #expect(try await project.fixture.client.listContainers(all: true, labels: labels).isEmpty)
            #expect(try await project.fixture.client.listNetworks(labels: labels).isEmpty)
            #expect(try await project.fixture.client.listVolumes(labels: labels).isEmpty)
            #expect(try await project.fixture.client.imageIfPresent("\(project.name)-web") == nil)
            #expect(!FileManager.default.fileExists(atPath: project.state + "/devenv/state.db"), "plan wrote state")

            let up = try await project.devenv(["up"])
            #expect(up.status == 0, "\(engine.name): \(up.stderr)")
            #expect(try await plan(project).mapValues(\.0) == ["cache": "keep", "web": "keep"])

            // A changed variable and a changed secret are named, never their values; a changed
            // build context names its files.
            var compose = Self.files["compose.yaml"]!.replacingOccurrences(
                of: "MODE: one, API_TOKEN: first-token-value", with: "MODE: two, API_TOKEN: second-token-value, NEW: x")
            try compose.write(toFile: project.directory + "/compose.yaml", atomically: true, encoding: .utf8)
            let changed = try await plan(project)
            #expect(changed["web"]?.0 == "recreate")
            #expect(changed["web"]?.1 == ["environment: API_TOKEN, MODE changed; NEW added"], "\(changed)")
            #expect(changed["cache"]?.0 == "keep")
            let text = try await project.devenv(["plan"])
            #expect(!text.stdout.contains("second-token-value") && !text.stdout.contains("first-token-value"))
            #expect(try await project.devenv(["up", "--dry-run"]).stdout == text.stdout)

            try "print(2)\n".write(toFile: project.directory + "/web/main.py", atomically: true, encoding: .utf8)
            try "x\n".write(toFile: project.directory + "/web/extra.py", atomically: true, encoding: .utf8)
            let rebuilt = try await plan(project)
            #expect(rebuilt["web"]?.0 == "rebuild")
            #expect(rebuilt["web"]?.1.contains("build context: extra.py (new), main.py") == true, "\(rebuilt)")

            // up says the same when it recreates; afterwards all is kept.
            let again = try await project.devenv(["up"])
            #expect(again.status == 0, "\(again.stderr)")
            #expect(again.stderr.contains("API_TOKEN, MODE changed; NEW added"), "\(again.stderr)")
            #expect(try await plan(project).mapValues(\.0) == ["cache": "keep", "web": "keep"])

            // A stopped service is started; a service gone from the file is an orphan.
            let web = try #require(try await project.containers()["web"])
            try await project.fixture.client.stopContainer(web, timeout: 1)
            compose =
                "services:\n"
                + compose.components(separatedBy: "services:\n")[1]
                .components(separatedBy: "\n").drop { !$0.hasPrefix("  web:") }
                .filter { !$0.contains("depends_on") }.joined(separator: "\n")
            try compose.write(toFile: project.directory + "/compose.yaml", atomically: true, encoding: .utf8)
            let stopped = try await plan(project)
            #expect(stopped["cache"]?.0 == "keep", "\(stopped)")
            #expect(stopped["cache"]?.1 == ["not in the stack file any more; up --remove-orphans removes it"])
            #expect(try await plan(project, ["--remove-orphans"])["cache"]?.0 == "remove")
            #expect(stopped["web"]?.0 == "start", "\(stopped)")
        }
    }
}
