import Crypto
import DevEnvModel
import DevEnvRuntime
import DockerEngine
import Foundation
import _CryptoExtras

/// `x-devenv.django` on a running app container: `manage.py migrate`, the superuser (created
/// once with `createsuperuser --noinput`), and the `django_site` row.
package struct DjangoProvisioning {
    let engine: any ContainerEngine
    let service: Service
    let spec: DjangoSpec
    let resolver: TemplateResolver
    let containerID: String

    package init(
        engine: any ContainerEngine, service: Service, spec: DjangoSpec, resolver: TemplateResolver, containerID: String
    ) {
        self.engine = engine
        self.service = service
        self.spec = spec
        self.resolver = resolver
        self.containerID = containerID
    }

    /// Exit 0 if the user exists, 3 if not; the username comes in through the environment,
    /// never through the code text. It also prints where the user model keeps its rows and how
    /// new passwords are hashed (`SuperuserRow`), for a warm `up` to set a password without
    /// starting Django.
    static let userExists = """
        import json, os, sys
        from django.contrib.auth import get_user_model
        User = get_user_model()
        try:
            from django.contrib.auth.hashers import get_hasher
            from django.db import connections, router
            hasher = get_hasher()
            row = {"database": connections[router.db_for_write(User)].settings_dict["NAME"], "table": User._meta.db_table,
                   "usernameColumn": User._meta.get_field(User.USERNAME_FIELD).column,
                   "passwordColumn": User._meta.get_field("password").column,
                   "algorithm": hasher.algorithm, "iterations": getattr(hasher, "iterations", None),
                   "username": os.environ["DEVENV_DJANGO_USERNAME"]}
            print("\(SuperuserRow.marker)" + json.dumps(row))
        except Exception:
            pass
        sys.exit(0 if User.objects.filter(**{User.USERNAME_FIELD: os.environ["DEVENV_DJANGO_USERNAME"]}).exists() else 3)
        """
    static let setSite = """
        import os
        from django.contrib.sites.models import Site
        Site.objects.update_or_create(id=int(os.environ["DEVENV_SITE_ID"]), defaults={"domain": os.environ["DEVENV_SITE_DOMAIN"], "name": os.environ["DEVENV_SITE_NAME"]})
        """

    static let setPassword = """
        import os
        from django.contrib.auth import get_user_model
        User = get_user_model()
        user = User.objects.get(**{User.USERNAME_FIELD: os.environ["DEVENV_DJANGO_USERNAME"]})
        user.set_password(os.environ["DEVENV_DJANGO_PASSWORD"])
        user.save(update_fields=["password"])
        """

    /// The superuser's password (generated once per project), when the spec has a superuser.
    package func superuserPassword() throws -> String? {
        guard spec.superuser != nil else { return nil }
        return try resolver.resolve(Template.Reference(service: service.name, path: ["superuser", "password"]))
    }

    /// Gives the existing superuser this project's password: restored databases (a warm `up`)
    /// hold the password of the project that made them.
    package func setSuperuserPassword(_ manage: [String]) async throws {
        guard let superuser = spec.superuser, let password = try superuserPassword() else { return }
        try await check(
            try await exec(
                manage + ["shell", "-c", Self.setPassword],
                env: ["DEVENV_DJANGO_USERNAME=\(superuser.username)", "DEVENV_DJANGO_PASSWORD=\(password)"]),
            "setting the superuser's password")
    }

    /// `manage.py migrate` (per declared database alias); `manage` from `manageCommand()`.
    package func migrate(_ manage: [String], progress: (String) -> Void) async throws {
        guard spec.migrate else { return }
        for alias in spec.migrateDatabases.isEmpty ? [nil] : spec.migrateDatabases.map(Optional.some) {
            progress(alias.map { "migrate --database \($0)" } ?? "migrate")
            let database = alias.map { ["--database", $0] } ?? []
            try await check(
                try await exec(manage + ["migrate", "--noinput"] + database),
                "manage.py migrate" + (alias.map { " --database \($0)" } ?? ""))
        }
    }

    /// The superuser (created once) and the `django_site` row: after migrations and seeding, so
    /// a sample set loads into empty tables and its ids never collide with these rows. Returns
    /// where the superuser's row is and how its password was hashed, when Django said.
    @discardableResult
    package func finish(_ manage: [String], progress: (String) -> Void) async throws -> SuperuserRow? {
        var row: SuperuserRow?
        if let superuser = spec.superuser {
            let exists = try await exec(
                manage + ["shell", "-c", Self.userExists], env: ["DEVENV_DJANGO_USERNAME=\(superuser.username)"])
            row = SuperuserRow(output: exists.stdoutText)
            switch exists.exitCode {
            case 0:
                progress("superuser \(superuser.username) exists")
            case 3:
                progress("createsuperuser \(superuser.username)")
                let password = try superuserPassword() ?? ""
                try await check(
                    try await exec(
                        manage + ["createsuperuser", "--noinput"],
                        env: [
                            "DJANGO_SUPERUSER_USERNAME=\(superuser.username)",
                            "DJANGO_SUPERUSER_EMAIL=\(superuser.email)",
                            "DJANGO_SUPERUSER_PASSWORD=\(password)",
                        ]), "manage.py createsuperuser")
            default:
                try await check(exists, "checking for the superuser")
            }
        }
        if let site = spec.site {
            progress("site \(site.id) = \(site.domain)")
            try await check(
                try await exec(
                    manage + ["shell", "-c", Self.setSite],
                    env: [
                        "DEVENV_SITE_ID=\(site.id)", "DEVENV_SITE_DOMAIN=\(site.domain)",
                        "DEVENV_SITE_NAME=\(site.name ?? site.domain)",
                    ]),
                "setting the django_site row")
        }
        return row
    }

    /// `manage:` from the file, else the container's `python3` (or `python`) with `manage.py`.
    package func manageCommand() async throws -> [String] {
        if let manage = spec.manage { return manage }
        let found = try await exec(["sh", "-c", "command -v python3 || command -v python"])
        let interpreter = found.stdoutText.split(separator: "\n").first.map(String.init)
        guard found.exitCode == 0, let interpreter else {
            throw ServiceFailure(
                service: service.name,
                reason: "has x-devenv.django but no python3 or python in its container; set x-devenv.django.manage")
        }
        return [interpreter, "manage.py"]
    }

    func exec(_ command: [String], env: [String] = []) async throws -> ExecResult {
        try await engine.exec(
            container: containerID,
            config: ExecConfig(cmd: command, env: env.isEmpty ? nil : env, workingDir: service.workingDir))
    }

    func check(_ result: ExecResult, _ what: String) async throws {
        guard result.exitCode != 0 else { return }
        let output = (result.stdoutText + result.stderrText).split(separator: "\n").suffix(15).map(String.init)
        throw ServiceFailure(
            service: service.name, reason: "\(what) failed with exit code \(result.exitCode)", logTail: output)
    }
}

/// Where a Django project keeps its superuser's row and how it hashes a new password, as its
/// `manage.py shell` said after a real migrate: enough to give a restored superuser another
/// password with one `UPDATE` (a warm `up`), without starting Django again.
public struct SuperuserRow: Codable, Sendable, Equatable {
    /// The PostgreSQL database (the user model's write database) and the table's columns.
    public var database: String
    public var table: String
    public var usernameColumn: String
    public var passwordColumn: String
    /// The first of `PASSWORD_HASHERS` (`pbkdf2_sha256`) and its iterations.
    public var algorithm: String
    public var iterations: Int?
    public var username: String

    static let marker = "devenv-superuser-row "

    /// The marked line of `userExists`'s output, when there is one.
    init?(output: String) {
        guard
            let line = output.split(separator: "\n").last(where: { $0.hasPrefix(Self.marker) }),
            let row = try? JSONDecoder().decode(Self.self, from: Data(line.dropFirst(Self.marker.count).utf8))
        else { return nil }
        self = row
    }

    /// Django's encoding of `password` by this row's hasher (`pbkdf2_sha256$<iterations>$<salt>$<hash>`),
    /// or nil for a hasher devenv does not compute (argon2, bcrypt: then Django sets it).
    public func hash(_ password: String, salt: String = SuperuserRow.salt()) -> String? {
        let function: KDF.Insecure.PBKDF2.HashFunction
        let length: Int
        switch algorithm {
        case "pbkdf2_sha256": (function, length) = (.sha256, 32)
        case "pbkdf2_sha1": (function, length) = (.insecureSHA1, 20)
        default: return nil
        }
        guard let iterations, iterations > 0, !salt.contains("$"),
            let key = try? KDF.Insecure.PBKDF2.deriveKey(
                from: Data(password.utf8), salt: Data(salt.utf8), using: function, outputByteCount: length,
                unsafeUncheckedRounds: iterations)
        else { return nil }
        let encoded = key.withUnsafeBytes { Data($0).base64EncodedString() }
        return "\(algorithm)$\(iterations)$\(salt)$\(encoded)"
    }

    /// A salt as Django makes one: 22 letters and digits.
    public static func salt() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return String((0..<22).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] })
    }
}
