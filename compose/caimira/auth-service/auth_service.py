"""CAiMIRA's auth service: nginx asks it (auth_request) whether a request is signed in; it runs
the OpenID Connect code flow against the SSO (CERN SSO in production, the local provider compose/sso here) and
keeps the user in a cookie signed with COOKIE_SECRET. CLIENT_ID, CLIENT_SECRET and
COOKIE_SECRET come from the auth-service-secrets secret, as in the deployment guide."""
import json
import os
import secrets
import urllib.parse

import jwt
import tornado.httpclient
import tornado.ioloop
import tornado.web

CLIENT_ID = os.environ["CLIENT_ID"]
CLIENT_SECRET = os.environ["CLIENT_SECRET"]
DISCOVERY_URL = os.environ["OIDC_DISCOVERY_URL"]
REQUIRED_ROLE = os.environ.get("REQUIRED_ROLE", "allowed-users")
COOKIE = "caimira_session"


async def discovery():
    response = await tornado.httpclient.AsyncHTTPClient().fetch(DISCOVERY_URL, request_timeout=5)
    return json.loads(response.body)


class Base(tornado.web.RequestHandler):
    def origin(self):
        host = self.request.headers.get("X-Forwarded-Host", self.request.host)
        scheme = self.request.headers.get("X-Forwarded-Proto", self.request.protocol)
        return f"{scheme}://{host}"


class Check(Base):
    """200 with X-Auth-User when the session cookie is valid, else 401 (nginx: go to login)."""

    def get(self):
        user = self.get_secure_cookie(COOKIE, max_age_days=1)
        if user is None:
            raise tornado.web.HTTPError(401)
        self.set_header("X-Auth-User", user.decode())


class Login(Base):
    async def get(self):
        config = await discovery()
        next_path = self.get_argument("next", "/")
        if not next_path.startswith("/") or next_path.startswith("//"):
            next_path = "/"  # never an open redirect
        state = self.create_signed_value("state", json.dumps({"next": next_path, "n": secrets.token_hex(8)}))
        query = urllib.parse.urlencode(
            {
                "client_id": CLIENT_ID,
                "response_type": "code",
                "scope": "openid profile email",
                "redirect_uri": self.origin() + "/auth/authorize",
                "state": state.decode(),
            }
        )
        self.redirect(f"{config['authorization_endpoint']}?{query}")


class Authorize(Base):
    """The redirect URI registered with the SSO: /auth/authorize, as in the guide."""

    async def get(self):
        state = tornado.web.decode_signed_value(
            self.application.settings["cookie_secret"], "state", self.get_argument("state"), max_age_days=0.01
        )
        if state is None:
            raise tornado.web.HTTPError(400, "bad state")
        config = await discovery()
        body = urllib.parse.urlencode(
            {
                "grant_type": "authorization_code",
                "code": self.get_argument("code"),
                "redirect_uri": self.origin() + "/auth/authorize",
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            }
        )
        response = await tornado.httpclient.AsyncHTTPClient().fetch(
            config["token_endpoint"], method="POST", body=body, raise_error=False, request_timeout=5
        )
        if response.code != 200:
            raise tornado.web.HTTPError(502, f"token endpoint said {response.code}")
        id_token = json.loads(response.body)["id_token"]
        # Signed RS256 with the provider's key, as CERN SSO does: checked against its JWKS.
        key = jwt.PyJWKClient(config["jwks_uri"]).get_signing_key_from_jwt(id_token).key
        claims = jwt.decode(id_token, key, algorithms=["RS256"], audience=CLIENT_ID, issuer=config["issuer"])
        if REQUIRED_ROLE not in claims.get("cern_roles", []):
            raise tornado.web.HTTPError(403, f"{claims['sub']} lacks the {REQUIRED_ROLE} role")
        self.set_secure_cookie(COOKIE, claims["preferred_username"], expires_days=1, httponly=True)
        self.redirect(json.loads(state)["next"])


class Logout(Base):
    def get(self):
        self.clear_cookie(COOKIE)
        self.redirect("/")


class Health(Base):
    async def get(self):
        await discovery()  # unhealthy while the SSO cannot be reached
        self.write({"status": "ok"})


if __name__ == "__main__":
    app = tornado.web.Application(
        [
            (r"/auth/check", Check),
            (r"/auth/login", Login),
            (r"/auth/authorize", Authorize),
            (r"/auth/logout", Logout),
            (r"/healthz", Health),
        ],
        cookie_secret=os.environ["COOKIE_SECRET"],
    )
    app.listen(8080)
    tornado.ioloop.IOLoop.current().start()
