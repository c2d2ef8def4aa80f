"""A local OpenID Connect provider standing in for CERN SSO (Keycloak realm "cern"): the
discovery document, authorize (signs in the configured test user at once), token (an id_token
signed HS256 with the client's secret) and userinfo. Clients: OIDC_CLIENTS as
"id:secret[,id:secret]". Browser-facing URLs go through the router (OIDC_PUBLIC_URL); the
token and userinfo endpoints are for the services on the stack's network (OIDC_INTERNAL_URL)."""
import os
import secrets
import time
import urllib.parse

import jwt
import tornado.ioloop
import tornado.web

REALM = "/realms/cern"
PUBLIC = os.environ.get("OIDC_PUBLIC_URL", "") + REALM
INTERNAL = os.environ.get("OIDC_INTERNAL_URL", "http://oidc:8090") + REALM
CLIENTS = dict(item.split(":", 1) for item in os.environ["OIDC_CLIENTS"].split(",") if item)
USER = {
    "sub": os.environ.get("OIDC_TEST_USER", "testuser"),
    "preferred_username": os.environ.get("OIDC_TEST_USER", "testuser"),
    "email": os.environ.get("OIDC_TEST_EMAIL", "test.user@example.org"),
    "name": "Test User",
    "cern_roles": os.environ.get("OIDC_TEST_ROLES", "allowed-users,external-users").split(","),
}
CODES = {}
TOKENS = {}


class Discovery(tornado.web.RequestHandler):
    def get(self):
        self.write(
            {
                "issuer": INTERNAL,
                "authorization_endpoint": PUBLIC + "/protocol/openid-connect/auth",
                "token_endpoint": INTERNAL + "/protocol/openid-connect/token",
                "userinfo_endpoint": INTERNAL + "/protocol/openid-connect/userinfo",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["HS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
            }
        )


class Authorize(tornado.web.RequestHandler):
    def get(self):
        client_id = self.get_argument("client_id")
        redirect_uri = self.get_argument("redirect_uri")
        if client_id not in CLIENTS or self.get_argument("response_type") != "code":
            raise tornado.web.HTTPError(400, "unknown client or response type")
        code = secrets.token_urlsafe(24)
        CODES[code] = (client_id, redirect_uri, time.time() + 60)
        query = urllib.parse.urlencode({"code": code, "state": self.get_argument("state", "")})
        print(f"signed in {USER['preferred_username']} for {client_id}", flush=True)
        self.redirect(f"{redirect_uri}?{query}")


class Token(tornado.web.RequestHandler):
    def post(self):
        client_id = self.get_argument("client_id")
        if CLIENTS.get(client_id) != self.get_argument("client_secret"):
            raise tornado.web.HTTPError(401, "bad client credentials")
        issued = CODES.pop(self.get_argument("code"), None)
        if issued is None or issued[0] != client_id or issued[1] != self.get_argument("redirect_uri"):
            raise tornado.web.HTTPError(400, "invalid_grant")
        if issued[2] < time.time():
            raise tornado.web.HTTPError(400, "expired code")
        now = int(time.time())
        claims = {**USER, "iss": INTERNAL, "aud": client_id, "iat": now, "exp": now + 300}
        access = secrets.token_urlsafe(24)
        TOKENS[access] = USER
        self.write(
            {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": jwt.encode(claims, CLIENTS[client_id], algorithm="HS256"),
            }
        )


class UserInfo(tornado.web.RequestHandler):
    def get(self):
        token = self.request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in TOKENS:
            raise tornado.web.HTTPError(401)
        self.write(TOKENS[token])


class Health(tornado.web.RequestHandler):
    def get(self):
        self.write({"status": "ok"})


if __name__ == "__main__":
    app = tornado.web.Application(
        [
            (REALM + r"/.well-known/openid-configuration", Discovery),
            (REALM + r"/protocol/openid-connect/auth", Authorize),
            (REALM + r"/protocol/openid-connect/token", Token),
            (REALM + r"/protocol/openid-connect/userinfo", UserInfo),
            (r"/healthz", Health),
        ]
    )
    app.listen(8090)
    tornado.ioloop.IOLoop.current().start()
