import Foundation
import TestSupport
import Testing

/// README's CI recipes, run the way the jobs run them: the GitLab job inside the devenv image
/// (`make image`) against a docker:dind-like engine over TLS with the same variables, and the
/// GitHub Actions job with the binary taken out of that image, on the runner's own engine.
@Suite struct CIRecipeTests {
    static let files = [
        "compose.yaml": """
        services:
          db:
            image: postgres:15
            x-devenv:
              postgres:
                roles: [{ name: app }]
                databases: [{ name: app, owner: app }]
        """
    ]
    /// What the job's test command checks: it reaches the database as the app's role.
    static let check = #"[ "$(psql "$DATABASE_URL" -tAc 'SELECT current_user')" = app ] && echo reached-as-app"#

    var image: String? { ProcessInfo.processInfo.environment["DEVENV_TEST_IMAGE"] }

    func docker(_ arguments: [String]) async throws -> ProcessResult {
        try await runProcessAsync(URL(fileURLWithPath: "/usr/bin/env"), ["docker"] + arguments)
    }

    @Test func gitlabDindJobInTheDevenvImage() async throws {
        let image = try #require(image, "DEVENV_TEST_IMAGE is not set: run 'make test' (it runs 'make image')")
        let remote = try #require(
            TestEngine.all.first { $0.name == "remote-tls" }, "no remote TLS engine: run 'make test' as root")
        let host = try #require(remote.environment["DOCKER_HOST"])
        let certs = try #require(remote.environment["DOCKER_CERT_PATH"])
        try await DevenvProject(files: Self.files, engine: remote).run { project in
            // The job's variables, as .gitlab-ci.yml sets them for a docker:dind service.
            let job = try await docker([
                "run", "--rm", "-v", "\(project.directory):/builds/app", "-w", "/builds/app",
                "-v", "\(certs):/certs/client:ro", "-e", "DOCKER_HOST=\(host)", "-e", "DOCKER_TLS_VERIFY=1",
                "-e", "DOCKER_CERT_PATH=/certs/client", "-e", "XDG_STATE_HOME=/tmp/state",
                image, "devenv", "test", "-p", project.name, "--", "sh", "-c", Self.check,
            ])
            #expect(job.status == 0, "\(job.stderr)")
            #expect(job.stdout.contains("reached-as-app"), "\(job.stdout)\(job.stderr)")
            #expect(job.stderr.contains("devenv: test project \(project.name)-test-"))
        }
    }

    @Test func githubActionsJobWithTheBinaryFromTheImage() async throws {
        let image = try #require(image, "DEVENV_TEST_IMAGE is not set: run 'make test' (it runs 'make image')")
        try await DevenvProject(files: Self.files).run { project in
            // The recipe's install step: the binary out of the image, onto the runner.
            let name = "devenv-bin-" + project.name
            #expect(try await docker(["create", "--name", name, image]).status == 0)
            let copied = try await docker(["cp", "\(name):/usr/local/bin/devenv", project.directory + "/devenv"])
            _ = try await docker(["rm", name])
            #expect(copied.status == 0, "\(copied.stderr)")
            let job = try await runProcessAsync(
                URL(fileURLWithPath: project.directory + "/devenv"),
                ["test", "-p", project.name, "--", "sh", "-c", Self.check], environment: project.environment,
                currentDirectory: project.directory)
            #expect(job.status == 0, "\(job.stderr)")
            #expect(job.stdout.contains("reached-as-app"))
        }
    }
}
