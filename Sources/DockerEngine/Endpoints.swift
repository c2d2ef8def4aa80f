import Foundation

// MARK: images

extension DockerClient {
    public func inspectImage(_ name: String) async throws -> ImageInspect {
        try await get(ImageInspect.self, "/images/\(pathComponent(name))/json")
    }

    /// `nil` when the engine does not have the image.
    public func imageIfPresent(_ name: String) async throws -> ImageInspect? {
        do {
            return try await inspectImage(name)
        } catch let error as DockerEngineError where error.isNotFound {
            return nil
        }
    }

    public func listImages(labels: [String: String?] = [:]) async throws -> [ImageSummary] {
        try await get([ImageSummary].self, "/images/json", query: ["filters": Self.labelFilter(labels)])
    }

    public func removeImage(_ name: String, force: Bool = false) async throws {
        try await call("DELETE", "/images/\(pathComponent(name))", query: ["force": force ? "1" : nil])
    }

    public struct BuildOptions: Sendable {
        public var tags: [String]
        public var dockerfile: String
        public var buildArgs: [String: String]
        public var labels: [String: String]
        public var noCache: Bool
        public var pull: Bool
        public var target: String?
        /// The Dockerfile's FROM images: their registries' logins go with the build.
        public var baseImages: [String]

        public init(
            tags: [String], dockerfile: String = "Dockerfile", buildArgs: [String: String] = [:],
            labels: [String: String] = [:], noCache: Bool = false, pull: Bool = false, target: String? = nil,
            baseImages: [String] = []
        ) {
            self.tags = tags
            self.dockerfile = dockerfile
            self.buildArgs = buildArgs
            self.labels = labels
            self.noCache = noCache
            self.pull = pull
            self.target = target
            self.baseImages = baseImages
        }
    }

    /// `POST /build` with a tar context; yields the NDJSON progress. An `{"error": …}` line
    /// ends the stream with a `.stream` error carrying the build's message.
    public func buildImage(
        context tar: Data, options: BuildOptions
    ) async throws -> AsyncThrowingStream<ProgressEvent, any Error> {
        try await buildImage(context: DataUpload(tar), options: options)
    }

    /// `POST /build` with a context read while it is sent (`TarStream`).
    public func buildImage(
        context tar: any UploadSource, options: BuildOptions
    ) async throws -> AsyncThrowingStream<ProgressEvent, any Error> {
        func json(_ value: [String: String]) -> String? {
            guard !value.isEmpty, let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])
            else { return nil }
            return String(decoding: data, as: UTF8.self)
        }
        let query: [String: String?] = [
            "dockerfile": options.dockerfile, "buildargs": json(options.buildArgs), "labels": json(options.labels),
            "nocache": options.noCache ? "1" : nil, "pull": options.pull ? "1" : nil, "target": options.target,
            "rm": "1", "forcerm": "1",
        ]
        // `t` repeats once per tag, so the pairs are built in order rather than from a dictionary.
        var pairs = query.compactMap { key, value in value.map { (key, $0) } }.sorted { $0.0 < $1.0 }
        pairs += options.tags.map { ("t", $0) }
        let path = "/build" + Self.queryString(pairs)
        var headers = ["Content-Type": "application/x-tar"]
        var logins: [RegistryCredential] = []
        for host in Set(options.baseImages.map(ImageRegistry.host(of:))).sorted() {
            if let login = try credentials?.credential(forRegistry: host) { logins.append(login) }
        }
        if !logins.isEmpty { headers["X-Registry-Config"] = RegistryCredentials.configHeader(logins) }
        do {
            let response = try await openStream("POST", path, upload: tar, headers: headers)
            return registryErrorsExplained(progressEvents(from: response.body), registries: options.baseImages)
        } catch let error as DockerEngineError {
            throw Self.registryError(error, references: options.baseImages) ?? error
        }
    }

    /// `POST /images/create`: pulls `reference` (`name:tag` or `name@digest`), NDJSON progress,
    /// with the registry's login from config.json (`X-Registry-Auth`) when there is one.
    public func pullImage(_ reference: String) async throws -> AsyncThrowingStream<ProgressEvent, any Error> {
        let (name, tag) = Self.splitReference(reference)
        var headers: [String: String] = [:]
        if let login = try credentials?.credential(forImage: reference) {
            headers["X-Registry-Auth"] = RegistryCredentials.authHeader(login)
        }
        do {
            let response = try await openStream(
                "POST", "/images/create", query: ["fromImage": name, "tag": tag], headers: headers)
            return registryErrorsExplained(progressEvents(from: response.body), registries: [reference])
        } catch let error as DockerEngineError {
            throw Self.registryError(error, references: [reference]) ?? error
        }
    }

    /// A registry's refusal (no or wrong login), as one line naming the registry and
    /// `docker login`; nil for other errors.
    static func registryError(_ error: DockerEngineError, references: [String]) -> DockerEngineError? {
        let message = error.message.lowercased()
        let refusal = [
            "no basic auth credentials", "unauthorized", "authentication required", "pull access denied",
            "denied: requested access", "incorrect username or password",
        ]
        guard error.code == .api || error.code == .stream, refusal.contains(where: message.contains) else {
            return nil
        }
        // The registry named in the engine's message, else the first reference's.
        let named = references.map(ImageRegistry.host(of:)).first { host in message.contains(host.lowercased()) }
        let registry = named ?? references.first.map(ImageRegistry.host(of:)) ?? "the registry"
        let image = references.first { ImageRegistry.host(of: $0) == registry } ?? references.first ?? ""
        return DockerEngineError(
            .registryAuth,
            "registry \(registry) refused to hand out \(image) without a valid login; run 'docker login \(registry)'",
            status: error.status, underlying: error.message)
    }

    /// The same progress stream, with a registry's refusal mid-stream explained.
    func registryErrorsExplained(
        _ events: AsyncThrowingStream<ProgressEvent, any Error>, registries: [String]
    ) -> AsyncThrowingStream<ProgressEvent, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    for try await event in events { continuation.yield(event) }
                    continuation.finish()
                } catch let error as DockerEngineError {
                    continuation.finish(throwing: Self.registryError(error, references: registries) ?? error)
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// `postgres:15` → (`postgres`, `15`); `host:5000/x` → (`host:5000/x`, `latest`).
    static func splitReference(_ reference: String) -> (String, String) {
        if reference.contains("@") { return (reference, "") }
        if let colon = reference.lastIndex(of: ":"), !reference[colon...].contains("/") {
            return (String(reference[..<colon]), String(reference[reference.index(after: colon)...]))
        }
        return (reference, "latest")
    }
}

// MARK: containers

extension DockerClient {
    public func createContainer(name: String?, config: ContainerConfig) async throws -> ContainerCreateResponse {
        let response = try await call("POST", "/containers/create", query: ["name": name], json: config)
        return try decode(ContainerCreateResponse.self, response.body)
    }

    /// Starting a running container is not an error.
    public func startContainer(_ id: String) async throws {
        do {
            try await call("POST", "/containers/\(pathComponent(id))/start")
        } catch let error as DockerEngineError where error.isNotModified {
            return
        }
    }

    /// Stopping a stopped container is not an error.
    /// Unpacks a tar archive into the container's filesystem at `path` (created or stopped
    /// containers too): how secrets and configs reach a container on any engine, local or remote.
    public func putArchive(_ id: String, path: String, tar: Data) async throws {
        var request = HTTPRequest(
            method: "PUT",
            path: try await versionedPath("/containers/\(pathComponent(id))/archive", query: ["path": path]),
            timeout: requestTimeout)
        request.body = tar
        request.headers["Content-Type"] = "application/x-tar"
        try check(try await transport.send(request), request)
    }

    /// The container's processes as `ps` shows them (`ps_args` as given, or the engine's default).
    public func top(_ id: String, psArguments: String? = nil) async throws -> ContainerTop {
        // Podman 4.3's compatible endpoint never answers (it streams, and sends nothing);
        // its own endpoint answers once with the same shape.
        let prefix = try await kind() == .podman ? "/libpod" : ""
        return try await get(
            ContainerTop.self, "\(prefix)/containers/\(pathComponent(id))/top",
            query: ["ps_args": psArguments, "stream": prefix.isEmpty ? nil : "false"])
    }

    public func pauseContainer(_ id: String) async throws {
        try await call("POST", "/containers/\(pathComponent(id))/pause")
    }

    public func unpauseContainer(_ id: String) async throws {
        try await call("POST", "/containers/\(pathComponent(id))/unpause")
    }

    public func stopContainer(_ id: String, timeout seconds: Int = 10) async throws {
        do {
            try await call(
                "POST", "/containers/\(pathComponent(id))/stop", query: ["t": String(seconds)],
                timeout: requestTimeout + TimeInterval(seconds))
        } catch let error as DockerEngineError where error.isNotModified {
            return
        }
    }

    /// Sends `signal` (a name such as `SIGTERM`, or a number) to the container's main process.
    public func killContainer(_ id: String, signal: String = "SIGKILL") async throws {
        try await call("POST", "/containers/\(pathComponent(id))/kill", query: ["signal": signal])
    }

    public func removeContainer(_ id: String, force: Bool = false, volumes: Bool = false) async throws {
        try await call(
            "DELETE", "/containers/\(pathComponent(id))",
            query: ["force": force ? "1" : nil, "v": volumes ? "1" : nil])
    }

    public func inspectContainer(_ id: String) async throws -> ContainerInspect {
        try await get(ContainerInspect.self, "/containers/\(pathComponent(id))/json")
    }

    /// Containers carrying all of `labels` (`key: value`, or `key: nil` for presence).
    public func listContainers(all: Bool = true, labels: [String: String?] = [:]) async throws -> [ContainerSummary] {
        try await get(
            [ContainerSummary].self, "/containers/json",
            query: ["all": all ? "1" : nil, "filters": Self.labelFilter(labels)])
    }

    /// Blocks until the container reaches `condition` (`not-running`, `next-exit`, `removed`)
    /// and returns its exit code.
    public func waitContainer(_ id: String, condition: String = "not-running") async throws -> ContainerWaitResponse {
        let response = try await openStream(
            "POST", "/containers/\(pathComponent(id))/wait", query: ["condition": condition])
        var body = Data()
        for try await chunk in response.body { body.append(chunk) }
        return try decode(ContainerWaitResponse.self, body)
    }

    public struct LogOptions: Sendable {
        public var follow: Bool
        public var stdout: Bool
        public var stderr: Bool
        public var timestamps: Bool
        /// `nil` for all lines.
        public var tail: Int?
        /// Unix seconds.
        public var since: Int?

        public init(
            follow: Bool = false, stdout: Bool = true, stderr: Bool = true, timestamps: Bool = false,
            tail: Int? = nil, since: Int? = nil
        ) {
            self.follow = follow
            self.stdout = stdout
            self.stderr = stderr
            self.timestamps = timestamps
            self.tail = tail
            self.since = since
        }
    }

    /// `GET /containers/{id}/logs`, demuxed into frames (raw for TTY containers).
    public func logs(
        _ id: String, options: LogOptions = LogOptions(), tty: Bool = false
    ) async throws -> AsyncThrowingStream<OutputFrame, any Error> {
        let response = try await openStream(
            "GET", "/containers/\(pathComponent(id))/logs",
            query: [
                "follow": options.follow ? "1" : nil, "stdout": options.stdout ? "1" : nil,
                "stderr": options.stderr ? "1" : nil, "timestamps": options.timestamps ? "1" : nil,
                "tail": options.tail.map(String.init) ?? "all", "since": options.since.map(String.init),
            ],
            timeout: options.follow ? nil : requestTimeout)
        return outputFrames(from: response.body, tty: tty)
    }

    /// `POST /containers/{id}/attach` (stdout/stderr, no stdin), demuxed into frames.
    public func attach(
        _ id: String, logs includePast: Bool = false, tty: Bool = false
    ) async throws -> AsyncThrowingStream<OutputFrame, any Error> {
        let response = try await openStream(
            "POST", "/containers/\(pathComponent(id))/attach",
            query: ["stream": "1", "stdout": "1", "stderr": "1", "logs": includePast ? "1" : nil])
        return outputFrames(from: response.body, tty: tty)
    }
}

// MARK: exec

extension DockerClient {
    public func createExec(container: String, config: ExecConfig) async throws -> String {
        let response = try await call("POST", "/containers/\(pathComponent(container))/exec", json: config)
        return try decode(IDResponse.self, response.body).Id
    }

    /// Starts an exec and streams its output (the exec was created with stdout/stderr attached).
    public func startExec(_ id: String, tty: Bool = false) async throws -> AsyncThrowingStream<OutputFrame, any Error> {
        struct Start: Encodable {
            var Detach = false
            var Tty: Bool
        }
        let body = try encoder.encode(Start(Tty: tty))
        let response = try await openStream(
            "POST", "/exec/\(pathComponent(id))/start", body: body, headers: ["Content-Type": "application/json"])
        return outputFrames(from: response.body, tty: tty)
    }

    public func inspectExec(_ id: String) async throws -> ExecInspect {
        try await get(ExecInspect.self, "/exec/\(pathComponent(id))/json")
    }

    /// Runs a command in a running container to the end and returns its output and exit code.
    public func exec(container: String, config: ExecConfig) async throws -> ExecResult {
        let id = try await createExec(container: container, config: config)
        var stdout = Data()
        var stderr = Data()
        for try await frame in try await startExec(id, tty: config.Tty) {
            if frame.stream == .stderr { stderr.append(frame.payload) } else { stdout.append(frame.payload) }
        }
        // The stream ends when the process does; the exit code may trail it by a moment.
        var inspect = try await inspectExec(id)
        var attempts = 0
        while inspect.Running && attempts < 100 {
            try await Task.sleep(for: .milliseconds(20))
            inspect = try await inspectExec(id)
            attempts += 1
        }
        return ExecResult(exitCode: inspect.ExitCode ?? -1, stdout: stdout, stderr: stderr)
    }
}

// MARK: networks and volumes

extension DockerClient {
    public func createNetwork(_ spec: NetworkCreate) async throws -> String {
        let response = try await call("POST", "/networks/create", json: spec)
        return try decode(IDResponse.self, response.body).Id
    }

    public func inspectNetwork(_ id: String) async throws -> NetworkInspect {
        try await get(NetworkInspect.self, "/networks/\(pathComponent(id))")
    }

    public func listNetworks(labels: [String: String?] = [:]) async throws -> [NetworkInspect] {
        try await get([NetworkInspect].self, "/networks", query: ["filters": Self.labelFilter(labels)])
    }

    public func removeNetwork(_ id: String) async throws {
        try await call("DELETE", "/networks/\(pathComponent(id))")
    }

    public func connectNetwork(_ network: String, container: String, aliases: [String] = []) async throws {
        struct Connect: Encodable {
            var Container: String
            var EndpointConfig: EndpointSettings
        }
        try await call(
            "POST", "/networks/\(pathComponent(network))/connect",
            json: Connect(Container: container, EndpointConfig: EndpointSettings(aliases: aliases)))
    }

    /// Takes a container off a network; `force` also when its endpoint is half gone.
    public func disconnectNetwork(_ network: String, container: String, force: Bool) async throws {
        struct Disconnect: Encodable {
            var Container: String
            var Force: Bool
        }
        try await call(
            "POST", "/networks/\(pathComponent(network))/disconnect",
            json: Disconnect(Container: container, Force: force))
    }

    public func createVolume(_ spec: VolumeCreate) async throws -> VolumeInspect {
        let response = try await call("POST", "/volumes/create", json: spec)
        return try decode(VolumeInspect.self, response.body)
    }

    public func inspectVolume(_ name: String) async throws -> VolumeInspect {
        try await get(VolumeInspect.self, "/volumes/\(pathComponent(name))")
    }

    public func listVolumes(labels: [String: String?] = [:]) async throws -> [VolumeInspect] {
        try await get(VolumeList.self, "/volumes", query: ["filters": Self.labelFilter(labels)]).Volumes ?? []
    }

    public func removeVolume(_ name: String, force: Bool = false) async throws {
        try await call("DELETE", "/volumes/\(pathComponent(name))", query: ["force": force ? "1" : nil])
    }
}

/// Percent-encodes one path segment (image names contain `/` and `:`).
func pathComponent(_ value: String) -> String {
    var allowed = CharacterSet.urlPathAllowed
    allowed.remove(charactersIn: "?#")
    // Image references keep their slashes: the engine routes `/images/{name}/json` greedily.
    return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
}

// MARK: copying files

/// What `HEAD /containers/{id}/archive` says of a path in a container.
public struct ContainerPathStat: Decodable, Sendable {
    public var name: String
    public var size: Int
    /// Go's `os.FileMode`: the permission bits, with the directory bit at 1 << 31.
    public var mode: UInt32
    public var linkTarget: String?

    public var isDirectory: Bool { mode & (1 << 31) != 0 }
}

extension DockerClient {
    /// A path in a container, or nil when there is none there.
    public func statPath(_ id: String, path: String) async throws -> ContainerPathStat? {
        let response: HTTPResponse
        do {
            response = try await call("HEAD", "/containers/\(pathComponent(id))/archive", query: ["path": path])
        } catch let error as DockerEngineError where error.isNotFound {
            return nil
        }
        guard let header = response.header("X-Docker-Container-Path-Stat"),
            let json = Data(base64Encoded: header)
        else {
            throw DockerEngineError(.malformedResponse, "the engine said nothing about \(path) (no path stat header)")
        }
        return try JSONDecoder().decode(ContainerPathStat.self, from: json)
    }

    /// `GET /containers/{id}/archive`: `path` (and everything under it) as a tar stream.
    public func getArchive(_ id: String, path: String) async throws -> AsyncThrowingStream<Data, any Error> {
        try await openStream("GET", "/containers/\(pathComponent(id))/archive", query: ["path": path]).body
    }

    /// `PUT /containers/{id}/archive` with a tar read while it is sent (`devenv cp` of a
    /// directory of any size). `path` must be a directory in the container.
    public func putArchive(_ id: String, path: String, upload: any UploadSource) async throws {
        let response = try await openStream(
            "PUT", "/containers/\(pathComponent(id))/archive", query: ["path": path], upload: upload,
            headers: ["Content-Type": "application/x-tar"])
        _ = try await response.collect()
    }
}
