import Foundation
import Platform

/// Which engine devenv talks to, and why: the docker CLI's order.
///
/// 1. `DOCKER_HOST` (with `DOCKER_TLS_VERIFY`, `DOCKER_TLS`, `DOCKER_CERT_PATH`);
/// 2. `DOCKER_CONTEXT`, else `currentContext` in `$DOCKER_CONFIG/config.json`: the context's
///    endpoint from `contexts/meta/*/meta.json` and its TLS files from `contexts/tls/…/docker`;
/// 3. the first well-known socket that accepts a connection: rootful Docker, rootless Docker,
///    rootless Podman, Docker Desktop, Colima, OrbStack.
public struct EngineSelection: Sendable, Equatable {
    public enum Source: String, Sendable, Codable {
        case dockerHost = "DOCKER_HOST"
        case context
        case socket
        /// Nothing answered; the default socket is named so the error says where we looked.
        case fallback
    }

    public var connection: EngineConnection
    public var source: Source
    /// The docker context used (`source == .context`).
    public var context: String?
    /// What the socket usually belongs to (`rootless Podman`, `Colima`…), for well-known sockets.
    public var socketOwner: String?
    /// The sockets tried, in order, when none answered.
    public var tried: [String]

    /// One sentence for `doctor`: why this engine.
    public var reason: String {
        switch source {
        case .dockerHost: "DOCKER_HOST is set"
        case .context: "docker context '\(context ?? "")'"
        case .socket: "the first well-known socket that answers (\(socketOwner ?? "engine"))"
        case .fallback: "no well-known socket answers (tried \(tried.joined(separator: ", ")))"
        }
    }
}

public enum EngineDiscovery {
    /// A well-known engine socket and whose it usually is.
    public struct Candidate: Sendable, Equatable {
        public var path: String
        public var owner: String
    }

    /// The sockets to try, in order, for this user.
    public static func candidates(environment: [String: String], home: String) -> [Candidate] {
        var list = [Candidate(path: EngineEndpoint.defaultSocket, owner: "rootful Docker")]
        if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty {
            list.append(Candidate(path: runtime + "/docker.sock", owner: "rootless Docker"))
            list.append(Candidate(path: runtime + "/podman/podman.sock", owner: "rootless Podman"))
        }
        list.append(Candidate(path: home + "/.docker/run/docker.sock", owner: "Docker Desktop"))
        list.append(Candidate(path: home + "/.colima/default/docker.sock", owner: "Colima"))
        list.append(Candidate(path: home + "/.orbstack/run/docker.sock", owner: "OrbStack"))
        return list
    }

    /// The docker CLI's configuration directory: `DOCKER_CONFIG`, else `~/.docker`.
    public static func configDirectory(environment: [String: String], home: String) -> String {
        environment["DOCKER_CONFIG"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.docker"
    }

    /// Chooses the engine. `answers` says whether a unix socket accepts connections (tests
    /// pass their own). Throws for a `DOCKER_HOST` or context that cannot be used.
    public static func select(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        home: String = NSHomeDirectory(),
        answers: (String) -> Bool = { Sockets.connect(unixPath: $0) != nil }
    ) throws -> EngineSelection {
        let ssh = environment["DEVENV_SSH"].flatMap { $0.isEmpty ? nil : $0 } ?? "ssh"
        let configDirectory = configDirectory(environment: environment, home: home)

        if let host = environment["DOCKER_HOST"], !host.trimmingCharacters(in: .whitespaces).isEmpty {
            let wantsTLS =
                !(environment["DOCKER_TLS_VERIFY"] ?? "").isEmpty || !(environment["DOCKER_TLS"] ?? "").isEmpty
            let endpoint = try EngineEndpoint(dockerHost: host, tls: wantsTLS)
            // TLS is for tcp:// only; a unix socket or ssh ignores the variables, as the docker CLI does.
            let tls = endpoint.isTCP ? try environmentTLS(environment, configDirectory: configDirectory) : nil
            return EngineSelection(
                connection: EngineConnection(endpoint: endpoint, tls: tls, sshCommand: ssh),
                source: .dockerHost, context: nil, socketOwner: nil, tried: [])
        }

        let (contextName, origin) = try currentContext(environment: environment, configDirectory: configDirectory)
        if let contextName, contextName != "default" {
            var connection = try contextConnection(contextName, origin: origin, configDirectory: configDirectory)
            connection.sshCommand = ssh
            return EngineSelection(
                connection: connection, source: .context, context: contextName, socketOwner: nil, tried: [])
        }

        let candidates = candidates(environment: environment, home: home)
        for candidate in candidates where answers(candidate.path) {
            return EngineSelection(
                connection: EngineConnection(endpoint: .unix(path: candidate.path), sshCommand: ssh),
                source: .socket, context: nil, socketOwner: candidate.owner, tried: [])
        }
        return EngineSelection(
            connection: EngineConnection(endpoint: .unix(path: EngineEndpoint.defaultSocket), sshCommand: ssh),
            source: .fallback, context: nil, socketOwner: nil, tried: candidates.map(\.path))
    }

    /// TLS from `DOCKER_TLS_VERIFY` / `DOCKER_TLS` and `DOCKER_CERT_PATH` (default: the config
    /// directory), as the docker CLI reads them: any non-empty value turns them on.
    static func environmentTLS(_ environment: [String: String], configDirectory: String) throws -> TLSSettings? {
        let verify = !(environment["DOCKER_TLS_VERIFY"] ?? "").isEmpty
        let encrypt = !(environment["DOCKER_TLS"] ?? "").isEmpty
        guard verify || encrypt else { return nil }
        let explicit = environment["DOCKER_CERT_PATH"].flatMap { $0.isEmpty ? nil : $0 }
        let directory = explicit ?? configDirectory
        let origin = explicit.map { "DOCKER_CERT_PATH=\($0)" } ?? directory
        return try tlsFiles(in: directory, verify: verify, origin: origin, variable: "DOCKER_TLS_VERIFY")
    }

    /// ca.pem, cert.pem and key.pem in `directory`. Verifying needs ca.pem; a client
    /// certificate needs both of its files.
    static func tlsFiles(in directory: String, verify: Bool, origin: String, variable: String) throws -> TLSSettings {
        func file(_ name: String) -> String? {
            let path = (directory as NSString).appendingPathComponent(name)
            return FileManager.default.fileExists(atPath: path) ? path : nil
        }
        let ca = file("ca.pem")
        let cert = file("cert.pem")
        let key = file("key.pem")
        if verify && ca == nil {
            throw DockerEngineError(
                .tls,
                "\(variable) is set but \(origin) has no ca.pem; point DOCKER_CERT_PATH at the directory holding ca.pem, cert.pem and key.pem"
            )
        }
        if (cert == nil) != (key == nil) {
            throw DockerEngineError(
                .tls,
                "\(origin) has \(cert == nil ? "key.pem but no cert.pem" : "cert.pem but no key.pem"); a client certificate needs both"
            )
        }
        return TLSSettings(caFile: verify ? ca : nil, certFile: cert, keyFile: key, verify: verify, origin: origin)
    }

    /// The context named by `DOCKER_CONTEXT`, else by `currentContext` in config.json; and where
    /// the name came from, for messages.
    static func currentContext(
        environment: [String: String], configDirectory: String
    ) throws -> (String?, String) {
        if let name = environment["DOCKER_CONTEXT"], !name.isEmpty { return (name, "DOCKER_CONTEXT") }
        let path = (configDirectory as NSString).appendingPathComponent("config.json")
        guard let data = FileManager.default.contents(atPath: path) else { return (nil, path) }
        struct Config: Decodable { var currentContext: String? }
        do {
            return (try JSONDecoder().decode(Config.self, from: data).currentContext, path)
        } catch {
            throw DockerEngineError(
                .discovery, "\(path) is not valid JSON; fix or remove it (it names the current docker context)",
                underlying: String(describing: error))
        }
    }

    /// A context's docker endpoint and TLS files.
    static func contextConnection(_ name: String, origin: String, configDirectory: String) throws -> EngineConnection {
        struct Meta: Decodable {
            struct Endpoint: Decodable {
                var Host: String?
                var SkipTLSVerify: Bool?
            }
            var Name: String
            var Endpoints: [String: Endpoint]?
        }
        let metaRoot = (configDirectory as NSString).appendingPathComponent("contexts/meta")
        let directories = (try? FileManager.default.contentsOfDirectory(atPath: metaRoot)) ?? []
        for directory in directories.sorted() {
            let file = "\(metaRoot)/\(directory)/meta.json"
            guard let data = FileManager.default.contents(atPath: file),
                let meta = try? JSONDecoder().decode(Meta.self, from: data), meta.Name == name
            else { continue }
            guard let endpoint = meta.Endpoints?["docker"], let host = endpoint.Host, !host.isEmpty else {
                throw DockerEngineError(
                    .discovery,
                    "docker context '\(name)' (from \(origin)) has no docker endpoint in \(file); run 'docker context inspect \(name)', or set DOCKER_CONTEXT=default"
                )
            }
            let tlsDirectory = (configDirectory as NSString).appendingPathComponent(
                "contexts/tls/\(directory)/docker")
            let parsed = try EngineEndpoint(dockerHost: host)
            var tls: TLSSettings?
            if parsed.isTCP, FileManager.default.fileExists(atPath: tlsDirectory) {
                tls = try tlsFiles(
                    in: tlsDirectory, verify: !(endpoint.SkipTLSVerify ?? false),
                    origin: "docker context '\(name)' (\(tlsDirectory))", variable: "docker context '\(name)'")
            } else if parsed.isTCP, endpoint.SkipTLSVerify == true {
                tls = TLSSettings(
                    caFile: nil, certFile: nil, keyFile: nil, verify: false, origin: "docker context '\(name)'")
            }
            return EngineConnection(endpoint: parsed, tls: tls)
        }
        throw DockerEngineError(
            .discovery,
            "docker context '\(name)' (from \(origin)) does not exist in \(metaRoot); run 'docker context ls', or set DOCKER_CONTEXT=default"
        )
    }
}

extension EngineEndpoint {
    var isTCP: Bool {
        if case .tcp = self { return true }
        return false
    }
}
