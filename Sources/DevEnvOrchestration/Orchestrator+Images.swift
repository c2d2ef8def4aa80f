import Crypto
import DevEnvModel
import DevEnvProvisioning
import DevEnvRuntime
import DevEnvSamples
import DockerEngine
import Foundation
import Platform
import Postgres
import StateStore

// Images: built when their inputs changed, pulled when missing.
extension Orchestrator {
    /// Builds or pulls what is missing; returns each service's image as the engine describes it.
    func ensureImages(_ services: [Service], force: Bool, pull: Bool = false) async throws -> [String: ImageInspect] {
        var found: [String: ImageInspect] = [:]
        // Services sharing an image (a backend and its workers) resolve it once: one digest of
        // the build context, one build even with --build, one pull.
        var resolved: [String: ImageInspect] = [:]
        for service in services {
            let reference = service.imageReference(project: stack.name)
            if let known = resolved[reference] {
                found[service.name] = known
                continue
            }
            defer { resolved[reference] = found[service.name] }
            if let build = service.build {
                let (inputs, digest) = await buildInputs(build)
                if !force, let image = try await engine.imageIfPresent(reference),
                    image.Config?.Labels?[ProjectLabel.buildDigest] == digest
                {
                    found[service.name] = image
                    continue
                }
                found[service.name] = try await buildImage(service, build, reference, digest: digest)
                do {
                    try store?.saveBuildInputs(digest: digest, inputs: inputs)
                } catch {
                    // Only `plan`'s list of changed files needs it: say so, and go on.
                    emit(service.name, .warning, "could not record what \(reference) was built from: \(error)")
                }
                continue
            }
            let policy = pull ? .always : service.pull
            if policy != .always, let image = try await engine.imageIfPresent(reference) {
                found[service.name] = image
                continue
            }
            guard policy != .never else {
                throw ServiceFailure(
                    service: service.name, reason: "needs image \(reference), which is not present (pull_policy: never)"
                )
            }
            emit(service.name, .pulling, reference)
            do {
                for try await event in try await engine.pullImage(reference) {
                    if let status = event.status, event.progressDetail?.total == nil {
                        emit(service.name, .pulling, [event.id, status].compactMap { $0 }.joined(separator: ": "))
                    }
                }
            } catch let error as DockerEngineError {
                throw ServiceFailure(
                    service: service.name,
                    reason: "needs image \(reference), which is not present and could not be pulled: \(error.message)")
            }
            guard let image = try await engine.imageIfPresent(reference) else {
                throw ServiceFailure(
                    service: service.name, reason: "pulled \(reference) but the engine does not have it")
            }
            emit(service.name, .pulled, reference)
            found[service.name] = image
        }
        return found
    }

    /// `devenv build`: builds the images of the named services (all) that have `build:`, even
    /// when up to date (the engine's layer cache still applies). Returns the references built.
    public func build(_ names: [String]) async throws -> [String] {
        let services = try namedServices(names).filter { $0.build != nil }
        _ = try await ensureImages(services, force: true)
        emit(nil, .done)
        return Array(Set(services.map { $0.imageReference(project: stack.name) })).sorted()
    }

    /// `devenv pull`: pulls the images of the named services (all) that name one and are not
    /// built, even when present; `pull_policy: never` and `build` services are left alone.
    public func pull(_ names: [String]) async throws -> [String] {
        let services = try namedServices(names).filter { $0.build == nil && $0.pull != .never }
        _ = try await ensureImages(services, force: false, pull: true)
        emit(nil, .done)
        return Array(Set(services.map { $0.imageReference(project: stack.name) })).sorted()
    }

    /// The named services (all when none are named), without their dependencies.
    func namedServices(_ names: [String]) throws -> [Service] {
        let named = Set(names)
        return try selectedServices(names).filter { named.isEmpty || named.contains($0.name) }
    }

    /// What a build would be made from now (its base images as they are on the engine), and
    /// the digest of that: an image with this digest label is up to date.
    func buildInputs(_ build: Build) async -> (inputs: [String], digest: String) {
        var bases: [String] = []
        for base in BuildDigest.baseImageReferences(build) {
            bases.append((try? await engine.imageIfPresent(base))??.Id ?? "absent:\(base)")
        }
        let inputs = BuildDigest.inputs(build, baseImages: bases)
        return (inputs, BuildDigest.digest(of: inputs))
    }

    /// A one-shot (no restart policy, no healthcheck) that exited 0 has done its work.
    func completedEarlier(_ service: Service, _ current: ContainerSummary) async throws -> Bool {
        guard current.status == .exited, !service.restarts, service.healthcheck == nil else { return false }
        return try await engine.inspectContainer(current.Id).State.ExitCode == 0
    }

    func buildImage(
        _ service: Service, _ build: Build, _ reference: String, digest: String
    ) async throws
        -> ImageInspect
    {
        emit(service.name, .building, reference)
        let ignore = DockerIgnore(contextDirectory: build.context)
        let context: TarStream
        do {
            context = try TarStream(directory: URL(fileURLWithPath: build.context)) { ignore.excludes($0) }
        } catch {
            throw ServiceFailure(service: service.name, reason: "cannot read build context \(build.context): \(error)")
        }
        var last: [String] = []
        do {
            for try await event in try await engine.buildImage(
                context: context,
                options: DockerClient.BuildOptions(
                    tags: [reference], dockerfile: build.dockerfile, buildArgs: build.args,
                    labels: [
                        ProjectLabel.project: stack.name, ProjectLabel.service: service.name,
                        ProjectLabel.buildDigest: digest,
                    ], target: build.target, baseImages: BuildDigest.baseImageReferences(build)
                ))
            {
                guard let text = event.stream?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else {
                    continue
                }
                last = Array((last + [text]).suffix(20))
                emit(service.name, .buildOutput, text)
            }
        } catch let error as DockerEngineError {
            let secrets = knownSecrets()
            throw ServiceFailure(
                service: service.name, reason: "image build failed: \(SecretRule.masking(secrets, in: error.message))",
                logTail: last.map { SecretRule.masking(secrets, in: $0) })
        }
        guard let image = try await engine.imageIfPresent(reference) else {
            throw ServiceFailure(service: service.name, reason: "built \(reference) but the engine does not have it")
        }
        emit(service.name, .built, reference)
        return image
    }
}
