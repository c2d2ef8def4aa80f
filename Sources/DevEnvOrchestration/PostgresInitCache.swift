import Crypto
import DevEnvModel
import DevEnvProvisioning
import DevEnvRuntime
import DevEnvSamples
import DockerEngine
import Foundation
import Platform

/// PostgreSQL's first start, made once. The image's entrypoint spends about a second on every
/// new container running `initdb`, a temporary server, `CREATE DATABASE $POSTGRES_DB` and a
/// restart — the same work, with the same result, each time. devenv keeps that result as a
/// local image (`devenv-pginit:<key>`: the service's own image plus the initialized cluster in
/// a layer) and creates later containers of the same image and settings from it: the cluster
/// is already there, so the entrypoint goes straight to the server.
///
/// The key is the base image's ID and every variable that shapes the cluster (`POSTGRES_*`,
/// `PG*`, locale, time zone) except the password, which devenv generates per project: the
/// cached cluster's superuser has a random placeholder password, and a wrapper entrypoint sets
/// the container's own `POSTGRES_PASSWORD` in single-user mode before the first start (the
/// password never enters the image). A container whose data directory is in a named volume
/// uses it too: the wrapper copies the cluster into the volume when the volume holds nothing
/// yet (its first start; `cp -a` of about 40 MB instead of `initdb`), and leaves a volume that
/// holds anything alone. None uses it whose data directory is a bind mount, and none with
/// `/docker-entrypoint-initdb.d` scripts (mounted, or in the image: those may read any
/// variable, so the build refuses them), a replaced entrypoint, a user, or `*_FILE` secrets.
/// The first container of a key initializes as usual; `up` then asks for the image to be made
/// in the background. `DEVENV_PGINIT=0` turns all of it off.
public enum PostgresInitCache {
    /// On cache images and on containers made from them: the key.
    public static let keyLabel = "dev.devenv.pginit"
    /// On cache images: the ID of the image they were made from.
    public static let baseLabel = "dev.devenv.pginit.base"
    /// On cache images and their containers: the service's image reference (`postgres:15`).
    public static let fromLabel = "dev.devenv.pginit.from"
    public static let repository = "devenv-pginit"
    /// Where the cached cluster lives in the image (outside the image's `VOLUME`, which would
    /// hide it or cost a copy of every file into a fresh volume).
    public static let dataDirectory = "/var/lib/postgresql/devenv-data"
    static let marker = "devenv-pginit"
    static let initScripts = "/docker-entrypoint-initdb.d"
    /// Bumped when the image's recipe (build script, wrapper) changes: part of the key, and on
    /// the image, so `gc` removes images of an older recipe.
    public static let format = "4"
    public static let formatLabel = "dev.devenv.pginit.format"

    public static var enabled: Bool { Settings.current.initializedClusterCache }

    /// What to make: enough to build the image without the stack file.
    public struct Request: Sendable, Codable, Equatable {
        public var service: String
        public var key: String
        /// The base image's ID and its reference.
        public var base: String
        public var reference: String
        /// The variables that shape the cluster (never a password).
        public var environment: [String: String]
        public var entrypoint: [String]
        public var command: [String]
        /// The data directory when it is in a named volume: the container keeps it there (the
        /// wrapper copies the cached cluster in on the volume's first start). Not in the key.
        public var volumeDataDirectory: String?
        /// The engine it is for (`unix:///var/run/docker.sock`): the lock and failure files are
        /// per key and engine, since two engines may hold the same image ID (a `docker load`)
        /// and one's build, or refusal, says nothing of the other's. Not in the key.
        public var engine: String?

        public var tag: String { "\(PostgresInitCache.repository):\(key.prefix(24))" }
    }

    /// The request for a service's container, or nil when the cache must not be used for it.
    public static func request(
        for service: Service, project: String, environment: [String: String], base: ImageInspect
    ) -> Request? {
        guard service.kind == .postgres, service.entrypoint == nil, service.user == nil,
            let entrypoint = base.Config?.Entrypoint, !entrypoint.isEmpty,
            ["", "root", "0", "0:0"].contains(base.Config?.User ?? ""),
            let command = base.Config?.Cmd, command.first == "postgres"
        else { return nil }
        if let own = service.command, let first = own.first, first != "postgres", !first.hasPrefix("-") {
            return nil
        }
        let imageEnvironment = Dictionary(
            (base.Config?.Env ?? []).compactMap { line -> (String, String)? in
                guard let equals = line.firstIndex(of: "=") else { return nil }
                return (String(line[..<equals]), String(line[line.index(after: equals)...]))
            }, uniquingKeysWith: { $1 })
        let dataDirectory = environment["PGDATA"] ?? imageEnvironment["PGDATA"] ?? "/var/lib/postgresql/data"
        func covers(_ mount: String, _ path: String) -> Bool {
            let mount = mount.hasSuffix("/") && mount.count > 1 ? String(mount.dropLast()) : mount
            return path == mount || path.hasPrefix(mount == "/" ? "/" : mount + "/")
        }
        let walDirectory = environment["POSTGRES_INITDB_WALDIR"]
        var volumeDataDirectory: String?
        for volume in service.volumes {
            if covers(volume.target, dataDirectory) {
                // A named volume gets the cached cluster on its first start; a bind mount (a
                // directory of the developer's, whose owner the copy would have to guess) does not.
                guard volume.type == .volume, volume.source != nil, !volume.readOnly else { return nil }
                volumeDataDirectory = dataDirectory
                continue
            }
            if let walDirectory, covers(volume.target, walDirectory) { return nil }
            if covers(volume.target, initScripts) || covers(initScripts, volume.target) { return nil }
        }
        if let password = environment["POSTGRES_PASSWORD"], password.contains("\n") || password.contains("\0") {
            return nil
        }
        var shaping: [String: String] = [:]
        for (name, value) in environment where name != "POSTGRES_PASSWORD" {
            guard shapesCluster(name) else { continue }
            let upper = name.uppercased()
            if upper.hasSuffix("_FILE") || upper.contains("PASSWORD") || upper.contains("SECRET")
                || upper.contains("TOKEN")
            {
                return nil
            }
            shaping[name] = value
        }
        var request = Request(
            service: service.name, key: "", base: base.Id, reference: service.imageReference(project: project),
            environment: shaping, entrypoint: entrypoint, command: command,
            volumeDataDirectory: volumeDataDirectory)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let material =
            (try? encoder.encode([
                "format": [format], "base": [base.Id], "entrypoint": entrypoint, "command": command,
                "environment": shaping.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" },
            ])) ?? Data()
        request.key = SHA256.hash(data: material).hexadecimal
        return request
    }

    /// Variables the image's first start reads: its own, libpq's and the locale.
    static func shapesCluster(_ name: String) -> Bool {
        name.hasPrefix("POSTGRES_") || name.hasPrefix("PG") || name.hasPrefix("LC_")
            || ["LANG", "LANGUAGE", "TZ"].contains(name)
    }

    /// The build: the base image, the entrypoint run once as on a first start (server on
    /// loopback only, stopped as soon as it answers), and the wrapper in front of the entrypoint.
    static func dockerfile(_ request: Request, placeholder: String) -> String {
        let script = """
            set -e
            if [ -n "$(ls -A \(initScripts) 2>/dev/null)" ]; then
              echo 'devenv: the image has its own \(initScripts) scripts, which may read any variable: not cached' >&2
              exit 1
            fi
            "$@" postgres -c listen_addresses=127.0.0.1 -p 5432 &
            pid=$!
            until pg_isready -q -h 127.0.0.1 -p 5432; do
              kill -0 "$pid" 2>/dev/null || { wait "$pid" || true; echo 'devenv: the first start failed' >&2; exit 1; }
              sleep 0.1
            done
            kill -INT "$pid"
            wait "$pid"
            touch "$PGDATA/\(marker)"
            """
        let environment =
            request.environment.merging(["POSTGRES_PASSWORD": placeholder, "PGDATA": dataDirectory]) { $1 }
            .sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let run = ["env"] + environment + ["sh", "-c", script, "devenv-pginit"] + request.entrypoint
        return """
            FROM \(request.base)
            RUN \(json(run))
            COPY devenv-pginit.sh /usr/local/bin/devenv-pginit.sh
            ENV PGDATA=\(dataDirectory)
            ENTRYPOINT \(json(["sh", "/usr/local/bin/devenv-pginit.sh"] + request.entrypoint))
            CMD \(json(request.command))

            """
    }

    static func json(_ array: [String]) -> String {
        String(decoding: (try? JSONEncoder().encode(array)) ?? Data("[]".utf8), as: UTF8.self)
    }

    /// Runs once per container, as root, before the image's entrypoint: a cluster that has not
    /// started yet gets this container's superuser password (single-user mode, from stdin: no
    /// server runs, no command line shows it), then the marker goes.
    static let wrapper = #"""
        #!/bin/sh
        # devenv: this image holds an initialized PostgreSQL cluster (devenv-pginit); see `devenv gc`.
        set -e
        cached=\#(dataDirectory)
        # A data directory in a named volume (PGDATA set by devenv) that holds nothing yet gets
        # the cached cluster; one that holds anything is left as it is.
        if [ "$PGDATA" != "$cached" ] && [ -f "$cached/devenv-pginit" ] && [ "$(id -u)" = 0 ] \
          && [ -z "$(ls -A "$PGDATA" 2>/dev/null)" ]; then
          mkdir -p "$PGDATA"
          cp -a "$cached/." "$PGDATA/"
        fi
        if [ -f "$PGDATA/devenv-pginit" ] && [ "$(id -u)" = 0 ]; then
          role=$(printf '%s' "${POSTGRES_USER:-postgres}" | sed 's/"/""/g')
          if [ -n "${POSTGRES_PASSWORD:-}" ]; then
            secret="'$(printf '%s' "$POSTGRES_PASSWORD" | sed "s/'/''/g")'"
          else
            secret=NULL
          fi
          if command -v setpriv >/dev/null 2>&1; then
            as_postgres="setpriv --reuid=postgres --regid=postgres --init-groups"
          elif command -v gosu >/dev/null 2>&1; then
            as_postgres="gosu postgres"
          else
            as_postgres="su-exec postgres"
          fi
          # Errors are logged without the statement (it holds the password).
          log=$(printf 'ALTER ROLE "%s" PASSWORD %s;\n\n' "$role" "$secret" \
            | $as_postgres postgres --single -j -c log_min_error_statement=panic -D "$PGDATA" postgres 2>&1 >/dev/null) \
            || true
          if printf '%s\n' "$log" | grep -Eq '(ERROR|FATAL|PANIC): '; then
            printf '%s\n' "$log" | grep -E '(ERROR|FATAL|PANIC): ' >&2
            echo "devenv-pginit: the cached cluster did not take this container's superuser password; start it with DEVENV_PGINIT=0" >&2
            exit 1
          fi
          rm -f "$PGDATA/devenv-pginit"
        fi
        exec "$@"
        """#

    /// Builds the cache image; returns its ID.
    public static func build(_ request: Request, engine: any ContainerEngine) async throws -> String {
        var bytes = [UInt8](repeating: 0, count: 24)
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255) }
        let placeholder = bytes.hexadecimal
        var context = TarArchive()
        try context.addFile("Dockerfile", Data(dockerfile(request, placeholder: placeholder).utf8))
        try context.addFile("devenv-pginit.sh", Data(wrapper.utf8), mode: 0o755)
        let labels = [
            keyLabel: request.key, baseLabel: request.base, fromLabel: request.reference, formatLabel: format,
        ]
        var last: [String] = []
        do {
            for try await event in try await engine.buildImage(
                context: context.data(), options: DockerClient.BuildOptions(tags: [request.tag], labels: labels))
            {
                if let text = event.stream?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty {
                    last = Array((last + [text]).suffix(20))
                }
            }
        } catch let error as DockerEngineError {
            throw DevEnvError(
                "cannot make \(request.tag) from \(request.reference): \(error.message)\n"
                    + last.joined(separator: "\n"))
        }
        guard let image = try await engine.imageIfPresent(request.tag) else {
            throw DevEnvError("built \(request.tag) but the engine does not have it")
        }
        return image.Id
    }

    /// Lock and failure files of background builds: `$TMPDIR/devenv-<uid>/`, shared by every
    /// project and state directory of this user, so parallel `up`s build a key once.
    static var workDirectory: String {
        (NSTemporaryDirectory() as NSString).appendingPathComponent("devenv-\(Processes.userID)")
    }

    static func file(_ request: Request, _ suffix: String) -> String {
        let engine = request.engine.map { "-" + SHA256.hash(data: Data($0.utf8)).hexadecimal.prefix(8) } ?? ""
        return (workDirectory as NSString).appendingPathComponent("pginit-\(request.key.prefix(24))\(engine).\(suffix)")
    }

    /// Where a refused or failed build says why; deleting it lets the next `up` try again.
    public static func failureFile(for request: Request) -> String { file(request, "failed") }

    /// Requests worth a background build: one per key, none that failed before (the reason is
    /// in `$TMPDIR/devenv-<uid>/pginit-<key>.failed`; delete it to try again).
    public static func worthBuilding(_ requests: [Request]) -> [Request] {
        var seen: Set<String> = []
        return requests.filter { request in
            seen.insert(request.key).inserted && !FileManager.default.fileExists(atPath: file(request, "failed"))
        }
    }

    /// Builds each missing image, one process per key at a time (an `flock` on
    /// `pginit-<key>.lock`; a key another process is building is skipped). A failure is recorded
    /// so that later `up`s do not try again.
    public static func buildMissing(_ requests: [Request], engine: any ContainerEngine) async {
        try? FileManager.default.createDirectory(
            atPath: workDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if let reason = await unsuitable(engine) {
            for request in worthBuilding(requests) {
                try? "\(reason)\n".write(toFile: file(request, "failed"), atomically: true, encoding: .utf8)
            }
            return
        }
        for request in worthBuilding(requests) {
            guard let lock = try? FileLock.tryLock(file(request, "lock")) else { continue }
            defer { withExtendedLifetime(lock) {} }
            guard await image(for: request, engine: engine) == nil else { continue }
            do {
                _ = try await build(request, engine: engine)
            } catch {
                try? "\(error)\n".write(toFile: file(request, "failed"), atomically: true, encoding: .utf8)
            }
        }
        await evict(keeping: limit, engine: engine)
    }

    /// Why the engine should not hold cache images, if it should not: Podman on vfs storage
    /// copies every layer for every container, and building one held Podman's storage lock,
    /// stalling every other call, for seconds (measured with Podman 4.3). On overlay it pays.
    public static func unsuitable(_ engine: any ContainerEngine) async -> String? {
        guard (try? await engine.kind()) == .podman, let driver = try? await engine.info().Driver, driver == "vfs"
        else { return nil }
        return
            "the engine is Podman on vfs storage: a cached cluster would cost more than initdb; switch its storage to overlay"
    }

    /// How many cache images a machine keeps (about 40 MB of layer each): `DEVENV_PGINIT_KEEP`,
    /// else 8. A stack whose settings change every run cannot fill the disk.
    public static var limit: Int { Settings.current.initializedClusterImages }

    /// Removes the oldest cache images beyond `limit`, never one a container uses; returns their
    /// tags. `matching` narrows the images considered (by label).
    @discardableResult
    public static func evict(
        keeping limit: Int, matching: [String: String] = [:], engine: any ContainerEngine
    ) async -> [String] {
        guard let (images, used) = try? await inventory(matching: matching, engine: engine), images.count > limit
        else { return [] }
        var excess = images.count - limit
        var removed: [String] = []
        for image in images.sorted(by: { ($0.Created ?? 0) < ($1.Created ?? 0) })
        where excess > 0 && !used.contains(image.Id) {
            removed += await remove(image, engine: engine)
            excess -= 1
        }
        return removed
    }

    /// The cache image for `request` when it exists (and is what its tag says).
    public static func image(for request: Request, engine: any ContainerEngine) async -> ImageInspect? {
        guard let image = try? await engine.imageIfPresent(request.tag),
            image.Config?.Labels?[keyLabel] == request.key
        else { return nil }
        return image
    }

    /// Removes cache images that no container uses and whose base image is no longer what its
    /// reference names (a pulled or rebuilt `postgres:15`), whose recipe is older, or that lost
    /// their tag to a newer build of the same key; returns their tags (or IDs).
    public static func collectStale(engine: any ContainerEngine) async throws -> [String] {
        let (images, used) = try await inventory(engine: engine)
        var removed: [String] = []
        var current: [String: String?] = [:]
        for image in images where !used.contains(image.Id) {
            guard let reference = image.Labels?[fromLabel], let base = image.Labels?[baseLabel] else { continue }
            if current[reference] == nil { current[reference] = (try? await engine.imageIfPresent(reference))??.Id }
            let stale = current[reference] != .some(base) || image.Labels?[formatLabel] != format
            guard stale || tags(of: image).isEmpty else { continue }
            removed += await remove(image, engine: engine)
        }
        return removed.sorted()
    }

    /// The cache images (those with `matching` labels too) and the IDs of those a container uses.
    static func inventory(
        matching: [String: String] = [:], engine: any ContainerEngine
    ) async throws -> (images: [ImageSummary], used: Set<String>) {
        let images = try await engine.listImages(
            labels: [keyLabel: nil].merging(matching.mapValues { Optional($0) }) { $1 })
        let containers = try await engine.listContainers(all: true, labels: [keyLabel: nil])
        return (images, Set(containers.compactMap(\.ImageID)))
    }

    /// An image's `devenv-pginit:` tags; none when a build of the same key on another host (its
    /// lock is local) moved the tag to a newer image.
    static func tags(of image: ImageSummary) -> [String] {
        (image.RepoTags ?? []).filter { $0.hasPrefix(repository + ":") }
    }

    /// Removes a cache image: its tags, or, untagged, the image itself. Returns what went.
    static func remove(_ image: ImageSummary, engine: any ContainerEngine) async -> [String] {
        let tags = tags(of: image)
        guard !tags.isEmpty else {
            return (try? await engine.removeImage(image.Id, force: false)) != nil ? [image.Id] : []
        }
        var removed: [String] = []
        for tag in tags where (try? await engine.removeImage(tag, force: false)) != nil { removed.append(tag) }
        return removed
    }
}

extension ContainerPlan {
    /// The plan with its container made from the cache image `tag`. The config hash is unchanged:
    /// it describes the service, and a container from either image is the same service.
    public func usingInitializedCluster(_ request: PostgresInitCache.Request) -> ContainerPlan {
        var copy = self
        copy.withoutInitCache = config
        copy.config.Image = request.tag
        copy.config.Env =
            (config.Env ?? []).filter { !$0.hasPrefix("PGDATA=") }
            + ["PGDATA=\(request.volumeDataDirectory ?? PostgresInitCache.dataDirectory)"]
        copy.config.Labels?[PostgresInitCache.keyLabel] = request.key
        copy.config.Labels?[PostgresInitCache.fromLabel] = request.reference
        return copy
    }
}
