import Crypto
import DockerEngine
import Foundation
import Postgres
import TestSupport
import Testing

/// Every `compose/<name>` reference stack comes up healthy from its own directory, and the
/// URLs `devenv env` prints reach working services wired as in production.
@Suite(.serialized) struct ReferenceStackTests {
    @Test func certhelper() async throws {
        try await DevenvProject(reference: "certhelper").run { project in
            let up = try await project.devenv(["up"], environment: ["CERTHELPER_DIGEST_SCHEDULE": "@every 2s"])
            #expect(up.status == 0, "\(up.stderr)")
            try await project.expectHealthy(
                ["cron", "db", "mail", "nginx", "redis", "sso", "web"], completed: ["certs"])

            // The EOS project area (read-only) and the generated test certificate with its key.
            let certificate = try await HTTP.get(
                try #require(try await project.hostEnvironment()["NGINX_URL"]) + "/certificate-check")
            #expect(certificate.text.contains("\"key_matches\": true"), "\(certificate.text)")
            #expect(certificate.text.contains("CN=devenv Test CA (not CERN)"), "\(certificate.text)")
            let eos = try await project.devenv([
                "exec", "web", "--", "sh", "-c", "ls /eos/project/t/tkdqmdoc && touch /eos/x",
            ])
            #expect(eos.stdout.contains("README.txt") && eos.stderr.contains("Read-only file system"), "\(eos.stderr)")
            let env = try await project.hostEnvironment()
            let site = try #require(env["NGINX_URL"])

            // nginx → daphne over the unix socket on the shared volume; the app's role and the
            // Redis password work; the channel layer round-trips through Redis.
            let health = try await HTTP.get(site + "/healthz")
            #expect(health.status == 200)
            #expect(health.text.contains("\"user\": \"certhelper\""))
            #expect(try await HTTP.get(site + "/channels-check").text.contains("\"round_trip\": true"))
            #expect(try await HTTP.get(site + "/static/admin/css/base.css").status == 200)

            let database = try PostgresConnection(url: try #require(env["DATABASE_URL"]))
            #expect(
                try database.execute("SELECT domain FROM django_site WHERE id = 1").scalar == "certhelper.localhost")
            // The sample set (48 shifters, 400 certifications), then the superuser after them.
            try expectSanitizedSample(database, table: "certifier_trackercertification", rows: "400")
            #expect(try database.execute("SELECT id FROM auth_user WHERE username = 'admin'").scalar == "49")
            #expect(try database.execute("SELECT client_id FROM socialaccount_socialapp").scalar == "devenv-client")

            // CERN SSO through allauth's Keycloak provider, against the local provider: the sign-in
            // page is on certhelper's origin, the shifter comes back signed in with an SSO account.
            try await Self.allauthSignIn(
                project, site: site, database: database, username: "shifter", client: "certhelper-dev",
                email: "shifter@example.org")

            // The cron container runs the shift digest, which reaches the mail catcher.
            let inbox = try #require(env["MAIL_URL"]) + "/messages"
            let mail = try await HTTP.poll(inbox, timeout: 60) { $0.text.contains("Shift digest") }
            #expect(mail.text.contains("tkdqmdoctor@localhost"))
        }
    }

    /// Signs `username` in through allauth's Keycloak provider and the local identity provider,
    /// from allauth's page to the SSO account row, as a browser would.
    static func allauthSignIn(
        _ project: DevenvProject, site: String, database: PostgresConnection, username: String, client: String,
        email: String
    ) async throws {
        let secrets = try await project.secrets()
        // allauth's confirmation page (a POST with its CSRF token starts the flow).
        let page = try await HTTP.get(site + "/accounts/keycloak/login/")
        let csrfCookie = try #require(page.header("Set-Cookie")?.components(separatedBy: ";").first)
        let field = try #require(
            page.text.range(of: #"name="csrfmiddlewaretoken" value="([^"]+)""#, options: .regularExpression))
        let csrf = String(page.text[field]).components(separatedBy: "value=\"")[1].dropLast()
        let start = try await HTTP.form(
            site + "/accounts/keycloak/login/", ["csrfmiddlewaretoken": String(csrf)],
            headers: ["Cookie": csrfCookie, "Referer": site + "/accounts/keycloak/login/"])
        let toSSO = try #require(start.header("Location"), "\(start.status) \(start.text.prefix(300))")
        #expect(toSSO.hasPrefix("/auth/realms/cern/protocol/openid-connect/auth?"), "\(toSSO)")
        let session = try #require(start.header("Set-Cookie")?.components(separatedBy: ";").first)
        #expect(try await HTTP.get(site + toSSO).text.contains("Sign in to \(client)"))
        let password = try #require(secrets["sso.\(username)_password"])
        let signedIn = try await HTTP.form(site + toSSO, ["username": username, "password": password])
        let callback = try #require(signedIn.header("Location"))
        #expect(callback.hasPrefix(site + "/accounts/keycloak/login/callback/?"), "\(callback)")
        let done = try await HTTP.get(callback, headers: ["Cookie": "\(csrfCookie); \(session)"])
        // Signed in: on to the app's LOGIN_REDIRECT_URL, not back to a login or an error page.
        let landing = done.header("Location") ?? ""
        #expect(done.status == 302 && !landing.contains("login") && !landing.contains("error"), "\(landing)")
        let account = try database.execute(
            """
            SELECT u.username || ' ' || u.email FROM socialaccount_socialaccount a
            JOIN auth_user u ON u.id = a.user_id WHERE a.provider = 'keycloak' AND a.uid = '\(username)'
            """
        ).scalar
        #expect(account == "\(username) \(email)")
    }

    @Test func mlplayground() async throws {
        try await DevenvProject(reference: "mlplayground").run { project in
            let up = try await project.devenv(["up"])
            #expect(up.status == 0, "\(up.stderr)")
            try await project.expectHealthy(["db", "dqm-files", "sso", "web"])
            let env = try await project.hostEnvironment()
            let web = try #require(env["WEB_URL"])
            let health = try await HTTP.get(web + "/healthz")
            #expect(health.text.contains("\"user\": \"mlplayground\""), "\(health.status) \(health.text)")

            let database = try PostgresConnection(url: try #require(env["DATABASE_URL"]))
            try expectSanitizedSample(database, table: "histograms_lumisectionhistogram1d", rows: "1200")

            // The files under both DIR_PATH_DQMIO_STORAGE directories load; EOS stays read-only.
            let discover = try await project.devenv(["exec", "web", "--", "python3", "manage.py", "discover_dqm_files"])
            #expect(discover.stdout == "3 files\n", "\(discover.stderr)")
            let run = try await HTTP.get(web + "/api/histograms/?run=383000")
            #expect(run.text.components(separatedBy: "\"lumi\"").count == 6)
            let write = try await project.devenv(["exec", "web", "--", "touch", "/eos/written"])
            #expect(write.status != 0)
            #expect(write.stderr.contains("Read-only file system"))

            // The sidecar serves the same files on its own port.
            let listing = try await HTTP.get(try #require(env["DQM_FILES_URL"]) + "/project/m/mlplayground/Run2024/")
            #expect(listing.text.contains("ZeroBias-Run2024F-382300.csv"))

            #expect(try database.execute("SELECT count(*) FROM auth_user WHERE username = 'admin'").scalar == "1")

            // CERN SSO (allauth's Keycloak provider standing in for its CERN one) against the local
            // provider, its sign-in page on the app's own origin.
            try await Self.allauthSignIn(
                project, site: web, database: database, username: "mluser", client: "mlplayground-dev",
                email: "ml.user@example.org")
        }
    }

    @Test func rucioOpint() async throws {
        try await DevenvProject(reference: "rucio-opint").run { project in
            let up = try await project.devenv(["up"], environment: ["OPINT_FETCH_SCHEDULE": "@every 2s"])
            #expect(up.status == 0, "\(up.stderr)")
            #expect(up.stderr.contains("seeded 8 tables, 1130 rows into opint"))
            try await project.expectHealthy(["backend", "db", "loader"])
            let env = try await project.hostEnvironment()
            let database = try PostgresConnection(url: try #require(env["DATABASE_URL"]))
            try expectSanitizedSample(database, table: "api_issue", rows: "900")
            #expect(
                try database.execute("SELECT count(*) FROM api_issue WHERE message LIKE '%188.184.%'").scalar == "0")

            // The cron container loads the monitoring feed on its schedule, once per file.
            let backend = try #require(env["BACKEND_URL"])
            let loaded = try await HTTP.poll(backend + "/api/issues/?limit=1", timeout: 60) {
                $0.text.hasPrefix("{\"count\":929,")
            }
            #expect(loaded.status == 200)
            #expect(try database.execute("SELECT count(*) FROM api_fetchedfeed WHERE name LIKE '%-28T%'").scalar == "2")

            // A reset puts the seeded state back, superuser included, in a template clone.
            let reset = try await project.devenv(["db", "reset", "--force"])
            #expect(reset.status == 0, "\(reset.stderr)")
            let after = try PostgresConnection(url: try #require(env["DATABASE_URL"]))
            #expect(try after.execute("SELECT count(*) FROM api_fetchedfeed WHERE name LIKE '%-28T%'").scalar == "0")
            #expect(try after.execute("SELECT count(*) FROM auth_user WHERE username = 'admin'").scalar == "1")
        }
    }

    /// The committed sets come out of `sample-data/capture.sh` byte for byte: the recipe in
    /// the repository is the one that made them, and capture is deterministic. Each passes
    /// `devenv sample audit` against its source (issue #17).
    @Test(arguments: [
        "rucio-opint", "certhelper", "mlplayground", "dials", "dials-csc", "dials-ecal", "dials-hcal", "dials-jetmet",
    ])
    func committedSampleSetIsReproducible(
        _ stack: String
    ) async throws {
        let output = NSTemporaryDirectory() + "devenv-capture-\(UUID().uuidString)"
        let state = output + "-state"
        defer {
            try? FileManager.default.removeItem(atPath: output)
            try? FileManager.default.removeItem(atPath: state)
        }
        let script = DevenvProject.composeDirectory + "/../sample-data/capture.sh"
        let result = try await runProcessAsync(
            URL(fileURLWithPath: "/bin/bash"), [script, stack, output],
            environment: ["DEVENV": devenvExecutable().path, "XDG_STATE_HOME": state, "NO_COLOR": "1"])
        #expect(result.status == 0, "\(result.stderr)")
        // Captured with its audit, and the committed set audited against the same source.
        let committed = DevenvProject.composeDirectory + "/../sample-data/" + stack
        #expect(result.stdout.contains("audited: ") && result.stdout.contains("nothing personal found"))
        // (capture.sh names the set by its resolved path, without the `compose/..`.)
        let resolved = URL(fileURLWithPath: committed).standardizedFileURL.path
        #expect(result.stdout.contains("audited \(resolved): "), "\(result.stdout)")
        let files = try FileManager.default.contentsOfDirectory(atPath: committed).sorted()
        #expect(try FileManager.default.contentsOfDirectory(atPath: output).sorted() == files)
        for file in files {
            #expect(
                FileManager.default.contentsEqual(atPath: committed + "/" + file, andPath: output + "/" + file),
                "\(stack)/\(file) differs from a fresh capture")
        }
    }

    @Test func caimira() async throws {
        try await DevenvProject(reference: "caimira").run { project in
            let up = try await project.devenv(["up"])
            #expect(up.status == 0, "\(up.stderr)")
            try await project.expectHealthy(["auth-service", "caimira-api", "calculator", "router", "sso"])
            let router = try #require(try await project.hostEnvironment()["ROUTER_URL"])

            // Signed out: the protected page redirects to the login, which goes to the SSO.
            let page = try await HTTP.get(router + "/calculator")
            #expect(page.status == 302)
            let login = try #require(page.header("Location"))
            #expect(login == "/auth/login?next=/calculator")
            let toSSO = try await HTTP.get(router + login)
            let authorize = try #require(toSSO.header("Location"))
            #expect(authorize.hasPrefix("/auth/realms/cern/protocol/openid-connect/auth?client_id=caimira-test"))

            // The local provider's login page (CERN SSO's paths, through the router); a wrong
            // password is refused there, a user outside the e-group is refused by the app, and
            // the test user comes back with a code the auth service exchanges for the session.
            #expect(try await HTTP.get(router + authorize).text.contains("Sign in to caimira-test"))
            let secrets = try await project.secrets()
            let testPassword = try #require(secrets["sso.testuser_password"])
            let outsiderPassword = try #require(secrets["sso.outsider_password"])
            let wrong = try await HTTP.form(router + authorize, ["username": "testuser", "password": "wrong"])
            #expect(wrong.status == 401 && wrong.text.contains("Invalid username or password"))
            let outsiderReply = try await HTTP.form(
                router + authorize, ["username": "outsider", "password": outsiderPassword])
            let outsider = try #require(outsiderReply.header("Location"))
            #expect(try await HTTP.get(outsider).status == 403, "the role comes from the caimira-users e-group")
            let toLogin = try #require(try await HTTP.get(router + login).header("Location"))
            let signIn = try await HTTP.form(router + toLogin, ["username": "testuser", "password": testPassword])
            let callback = try #require(signIn.header("Location"))
            #expect(callback.hasPrefix(router + "/auth/authorize?code="))
            let signedIn = try await HTTP.get(callback)
            #expect(signedIn.status == 302 && signedIn.header("Location") == "/calculator")
            let cookie = try #require(signedIn.header("Set-Cookie")?.components(separatedBy: ";").first)

            let form = try await HTTP.get(router + "/calculator", headers: ["Cookie": cookie])
            #expect(form.status == 200)
            #expect(form.text.contains("Signed in as testuser"))
            let report = try await HTTP.get(
                router
                    + "/calculator/report?room_volume=60&air_changes=3&exposure_hours=2&infected_people=1&activity=speaking",
                headers: ["Cookie": cookie])
            #expect(report.text.contains("\"probability_of_infection\": 0.283469"), "\(report.text)")

            // A forged session is no session; the model API is public and validates its input.
            let forged = try await HTTP.get(router + "/calculator", headers: ["Cookie": "caimira_session=testuser"])
            #expect(forged.status == 302)
            let invalid = try await HTTP.request(
                "POST", router + "/api/virus_report", body: Data(#"{"room_volume": 0}"#.utf8))
            #expect(invalid.status == 400)
        }
    }

    /// DIALS' three SSO applications against the local provider: the frontend's public client
    /// signs a user in (code with PKCE through the login page on the frontend's origin, and the
    /// password grant tests use), the backend exchanges its token for the confidential
    /// application's and routes the user by the roles the e-groups give; an API client signs in
    /// with its own secret; refresh works until logout.
    static func dialsSignIn(_ project: DevenvProject, frontend: String, sso: String) async throws {
        let secrets = try await project.secrets()
        let token = sso + "/auth/realms/cern/protocol/openid-connect/token"
        func json(_ reply: HTTP.Reply) -> [String: Any] {
            (try? JSONSerialization.jsonObject(with: reply.body) as? [String: Any]) ?? [:]
        }
        func me(_ accessToken: String) async throws -> [String: Any] {
            json(try await HTTP.get(frontend + "/api/v1/auth/me", headers: ["Authorization": "Bearer \(accessToken)"]))
        }

        // The login page on the frontend's origin, PKCE (S256), the code for tokens.
        let verifier = "dials-test-verifier-0123456789-abcdefghijklmnopqrstuvwxyz"
        let challenge = Data(SHA256.hash(data: Data(verifier.utf8))).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        let redirect = frontend + "/"
        let authorize =
            frontend + "/auth/realms/cern/protocol/openid-connect/auth?client_id=cms-dials-public-app"
            + "&response_type=code&scope=openid&state=s1&code_challenge=\(challenge)&code_challenge_method=S256"
            + "&redirect_uri=" + (redirect.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
        #expect(try await HTTP.get(authorize).text.contains("Sign in to cms-dials-public-app"))
        let password = try #require(secrets["sso.tracker_shifter_password"])
        let signedIn = try await HTTP.form(authorize, ["username": "tracker-shifter", "password": password])
        let location = try #require(signedIn.header("Location"))
        let back = try #require(URLComponents(string: location))
        #expect(back.queryItems?.first { $0.name == "state" }?.value == "s1")
        let code = try #require(back.queryItems?.first { $0.name == "code" }?.value)
        let withoutVerifier = try await HTTP.form(
            token,
            [
                "grant_type": "authorization_code", "client_id": "cms-dials-public-app", "code": code,
                "redirect_uri": redirect,
            ])
        #expect(withoutVerifier.status == 400, "PKCE: no code without its verifier")
        let again = try await HTTP.form(authorize, ["username": "tracker-shifter", "password": password])
        let location2 = try #require(again.header("Location"))
        let code2 = try #require(URLComponents(string: location2)?.queryItems?.first { $0.name == "code" }?.value)
        let issued = json(
            try await HTTP.form(
                token,
                [
                    "grant_type": "authorization_code", "client_id": "cms-dials-public-app", "code": code2,
                    "redirect_uri": redirect, "code_verifier": verifier,
                ]))
        let access = try #require(issued["access_token"] as? String)
        let user = try await me(access)
        #expect(user["username"] as? String == "tracker-shifter", "\(user)")
        #expect(user["workspace"] as? String == "tracker", "\(user)")
        #expect(user["azp"] as? String == "cms-dials-confidential-app", "the backend's own token, by exchange")

        // Refresh, until logout ends the session.
        let refresh = try #require(issued["refresh_token"] as? String)
        let refreshed = try await HTTP.form(
            token, ["grant_type": "refresh_token", "client_id": "cms-dials-public-app", "refresh_token": refresh])
        #expect(refreshed.status == 200 && json(refreshed)["access_token"] != nil)
        let idToken = try #require(issued["id_token"] as? String)
        _ = try await HTTP.get(frontend + "/auth/realms/cern/protocol/openid-connect/logout?id_token_hint=\(idToken)")
        let afterLogout = try await HTTP.form(
            token, ["grant_type": "refresh_token", "client_id": "cms-dials-public-app", "refresh_token": refresh])
        #expect(afterLogout.status == 400, "\(afterLogout.text)")

        // The password grant (tests), another e-group, another workspace.
        let expert = json(
            try await HTTP.form(
                token,
                [
                    "grant_type": "password", "client_id": "cms-dials-public-app", "username": "ecal-expert",
                    "password": try #require(secrets["sso.ecal_expert_password"]),
                ]))
        let expertToken = try #require(expert["access_token"] as? String)
        #expect(try await me(expertToken)["workspace"] as? String == "ecal")

        // The API client: its own secret, its service account's forced role.
        let api = json(
            try await HTTP.form(
                token,
                [
                    "grant_type": "client_credentials", "client_id": "cms-dials-api-client-test",
                    "client_secret": try #require(secrets["sso.api_client_secret"]),
                ]))
        let service = try await me(try #require(api["access_token"] as? String))
        #expect(service["username"] as? String == "service-account-cms-dials-api-client-test", "\(service)")
        #expect(service["workspace"] as? String == "tracker")
        let forged = try await HTTP.get(frontend + "/api/v1/auth/me", headers: ["Authorization": "Bearer forged"])
        #expect(forged.status == 403)
    }

    @Test func dials() async throws {
        try await DevenvProject(reference: "dials").run { project in
            let up = try await project.devenv(["up"])
            #expect(up.status == 0, "\(up.stderr)")
            let workspaces = ["csc", "ecal", "hcal", "jetmet", "tracker"]
            let workers = workspaces.flatMap { ["\($0)-bulk", "\($0)-indexer", "\($0)-priority"] }
            try await project.expectHealthy(
                (["backend", "backend-nginx", "common-redbeat", "db", "frontend", "redis-etl", "redis-web", "sso"]
                    + workers)
                    .sorted())
            let env = try await project.hostEnvironment()
            // Each workspace's sample set went into its own database: its own runs.
            for (workspace, first) in zip(workspaces, [383000, 384000, 385000, 386000, 382000]) {
                let url = try #require(env["DIALS_\(workspace.uppercased())_DATABASE_URL"])
                let runs = try PostgresConnection(url: url).execute(
                    "SELECT count(*) || ' ' || min(run_number) FROM tables_run"
                ).scalar
                #expect(runs == "122 \(first)", "\(workspace)")
            }

            // The ETL: an index on tracker's indexer queue, ingestion on its bulk queue, the runs
            // in tracker's own database and on the API behind both nginx.
            let task = try await project.devenv([
                "exec", "backend", "--", "python3", "manage.py", "shell", "-c",
                "from tables.tasks import index_files; "
                    + "print(index_files.apply_async(args=('tracker',), queue='tracker-indexer').get(timeout=60))",
            ])
            #expect(task.stdout == "2\n", "\(task.stderr)")
            // common-redbeat is redbeat's scheduler: every workspace's index is in the broker's Redis.
            let expected = "[" + workspaces.map { "'redbeat:index \($0)'" }.joined(separator: ", ") + "]\n"
            var schedule = try await project.devenv(["exec", "backend", "--", "true"])
            for _ in 0..<30 where schedule.stdout != expected {  // beat writes it once it has started
                schedule = try await project.devenv([
                    "exec", "backend", "--", "python3", "-c",
                    "import os, redis; r = redis.from_url(os.environ['CELERY_BROKER_URL']); "
                        + "print(sorted(k.decode() for k in r.zrange('redbeat::schedule', 0, -1)))",
                ])
                if schedule.stdout != expected { try await Task.sleep(for: .seconds(1)) }
            }
            #expect(
                schedule.stdout == expected,
                "\(schedule.stdout) \(schedule.stderr)")
            let frontend = try #require(env["FRONTEND_URL"])
            try await Self.dialsSignIn(project, frontend: frontend, sso: try #require(env["SSO_URL"]))
            let runs = try await HTTP.poll(frontend + "/api/v1/run/?workspace=tracker", timeout: 60) {
                $0.text.contains("\"run_number\": 383702")
            }
            #expect(runs.text.contains("\"run_number\": 382711"))
            #expect(try await HTTP.get(frontend + "/").text.contains("DIALS"))
            #expect(try await HTTP.get(try #require(env["BACKEND_NGINX_URL"]) + "/healthz").status == 200)

            // flower only with its profile.
            let monitoring = try await project.devenv(["up", "--profile", "monitoring"])
            #expect(monitoring.status == 0, "\(monitoring.stderr)")
            let flower = try #require(try await project.hostEnvironment(["--profile", "monitoring"])["FLOWER_URL"])
            let listing = try await HTTP.poll(flower + "/api/workers", timeout: 60) {
                $0.text.contains("tracker-bulk@")
            }
            #expect(listing.text.contains("\"queues\": [\"csc-priority\"]"))
        }
    }
}

/// A seeded table holds `rows`, and no personal data of the synthetic source survived: no
/// CERN e-mail, no source account name, every password unusable.
func expectSanitizedSample(
    _ database: PostgresConnection, table: String, rows: String, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    #expect(try database.execute("SELECT count(*) FROM \(table)").scalar == rows, sourceLocation: sourceLocation)
    let leaks = try database.execute(
        """
        SELECT count(*) FROM auth_user
        WHERE email LIKE '%@cern.ch' OR username IN ('mrossi', 'jnovak', 'sdubois')
           OR (username <> 'admin' AND password NOT LIKE '!%')
        """
    ).scalar
    #expect(leaks == "0", sourceLocation: sourceLocation)
}

extension DevenvProject {
    /// `secrets show --json`: the generated secrets by name (`sso.testuser_password`), of this
    /// project or of project `name` (another project from the same file and state).
    func secrets(ofProject name: String? = nil) async throws -> [String: String] {
        let arguments = ["secrets", "show", "--json"]
        let shown =
            if let name {
                try await runProcessAsync(
                    devenvExecutable(), arguments + ["-p", name], environment: environment,
                    currentDirectory: directory)
            } else {
                try await devenv(arguments)
            }
        #expect(shown.status == 0, "\(shown.stderr)")
        return (try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: String]) ?? [:]
    }

    /// `devenv env --format json`.
    func hostEnvironment(_ options: [String] = []) async throws -> [String: String] {
        let result = try await devenv(["env", "--format", "json", "--show-secrets"] + options)
        #expect(result.status == 0, "\(result.stderr)")
        return (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: String]) ?? [:]
    }

    /// Exactly these services, each running and healthy where it has a healthcheck.
    /// Every service of `services` running (and healthy where it is checked), and each of
    /// `completed` (one-shots, which `up` saw end with 0 before starting what needs them) exited.
    func expectHealthy(
        _ services: [String], completed: [String] = [], sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let rows = try await statusRows()
        #expect(
            rows.compactMap { $0["service"] as? String } == (services + completed).sorted(),
            sourceLocation: sourceLocation)
        for row in rows {
            if completed.contains(row["service"] as? String ?? "") {
                #expect(row["state"] as? String == "exited", "\(row)", sourceLocation: sourceLocation)
                continue
            }
            #expect(row["state"] as? String == "running", "\(row)", sourceLocation: sourceLocation)
            #expect(
                ["healthy", "", nil].contains(row["health"] as? String), "\(row)", sourceLocation: sourceLocation)
        }
    }
}

/// Plain HTTP to published ports, with libcurl (no redirects followed: tests look at them).
enum HTTP {
    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? {
            headers.first { $0.key.lowercased() == name.lowercased() }?.value
        }
    }

    static func get(_ url: String, headers: [String: String] = [:]) async throws -> Reply {
        try await request("GET", url, headers: headers)
    }

    /// POSTs `fields` as an HTML form (application/x-www-form-urlencoded).
    static func form(
        _ url: String, _ fields: [String: String], headers: [String: String] = [:]
    ) async throws
        -> Reply
    {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = fields.sorted { $0.key < $1.key }.map { key, value in
            "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)"
        }.joined(separator: "&")
        return try await request(
            "POST", url, headers: headers.merging(["Content-Type": "application/x-www-form-urlencoded"]) { $1 },
            body: Data(body.utf8))
    }

    static func request(
        _ method: String, _ url: String, headers: [String: String] = [:], body: Data? = nil
    ) async throws -> Reply {
        let parsed = try #require(URLComponents(string: url))
        let host = try #require(parsed.host)
        let port = parsed.port ?? 80
        var path = parsed.percentEncodedPath.isEmpty ? "/" : parsed.percentEncodedPath
        if let query = parsed.percentEncodedQuery { path += "?" + query }
        let transport = CurlTransport(endpoint: .tcp(host: host, port: port))
        var request = HTTPRequest(method: method, path: path, headers: headers, body: body)
        request.timeout = 30
        let response = try await transport.send(request)
        return Reply(status: response.status, headers: response.headers, body: response.body)
    }

    /// GETs `url` until `done` holds, for at most `timeout` seconds.
    static func poll(
        _ url: String, timeout: Double, sourceLocation: SourceLocation = #_sourceLocation,
        until done: (Reply) -> Bool
    ) async throws -> Reply {
        let deadline = Date().addingTimeInterval(timeout)
        var last = try? await get(url)
        while !(last.map(done) ?? false), Date() < deadline {
            try await Task.sleep(for: .milliseconds(500))
            last = try? await get(url)
        }
        #expect(
            last.map(done) ?? false, "\(url): \(last?.status ?? 0) \(last?.text ?? "")", sourceLocation: sourceLocation)
        return try #require(last, sourceLocation: sourceLocation)
    }
}
