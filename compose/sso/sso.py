"""A local identity provider shaped like CERN SSO (Keycloak, realm "cern"), for every stack.

Paths as Keycloak's: /auth/realms/cern/.well-known/openid-configuration and
/auth/realms/cern/protocol/openid-connect/{auth,token,userinfo,certs,logout}, so an app's
production settings work after changing only the base URL. Tokens are RS256 JWTs signed with a
key made at start (JWKS at .../certs), with Keycloak's claims and CERN's: `cern_roles` (the
client's roles the user holds), `groups` (e-groups), `preferred_username`, `email`, `name`.

Grants: authorization code (with PKCE, S256 or plain; required for public clients), refresh,
client credentials (a client's service account), password (for tests), and token exchange
(RFC 8693: a client trades a token issued to another client for one for itself, when it lists
that client in `token_exchange_from`, as DIALS' confidential app does for its public one).

Configuration, from the stack (x-devenv.env, so passwords are generated and shown by
`devenv secrets show`):
  SSO_USERS    JSON list: {"username", "password", "email"?, "name"?, "groups"?: [...],
               "roles"?: {"<client>": [...]}}
  SSO_CLIENTS  JSON list: {"client_id", "secret"? (none: a public client), "redirect_uris"?:
               ["prefix*" or exact], "token_exchange_from"?: [...], "roles_by_group"?:
               {"<e-group>": [roles]}, "default_roles"?: [...], "service_account_roles"?: [...]}
  SSO_ISSUER_URL    the issuer, as the stack's services reach it (default http://sso:8080)
  SSO_FRONTEND_URL  where browsers reach it (the auth and logout endpoints): a URL, or a path
                    ("/" for the root) on the app's own origin that its proxy forwards here
                    (default: the issuer)
"""
import base64
import hashlib
import html
import json
import os
import secrets
import time
import urllib.parse

import jwt
import tornado.ioloop
import tornado.web
from cryptography.hazmat.primitives.asymmetric import rsa

REALM = "/auth/realms/cern"
OIDC = REALM + "/protocol/openid-connect"
ISSUER = os.environ.get("SSO_ISSUER_URL", "http://sso:8080").rstrip("/") + REALM
FRONTEND = os.environ.get("SSO_FRONTEND_URL", "")
USERS = {user["username"]: user for user in json.loads(os.environ.get("SSO_USERS", "[]"))}
CLIENTS = {client["client_id"]: client for client in json.loads(os.environ.get("SSO_CLIENTS", "[]"))}
ACCESS_SECONDS, REFRESH_SECONDS, CODE_SECONDS = 300, 1800, 60
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KID = secrets.token_hex(8)
CODES = {}  # code -> (client_id, redirect_uri, username, nonce, challenge, method, expiry)
REVOKED = set()  # session ids ended by logout


def b64(number):
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def frontend(handler):
    """Where browsers reach the realm: SSO_FRONTEND_URL as a URL; as a path, on the origin of the
    proxy that forwarded the request (X-Forwarded-Host), or relative to whatever origin the
    browser is on when a service asked directly (it redirects the browser there)."""
    if FRONTEND.startswith("http"):
        return FRONTEND.rstrip("/") + REALM
    if FRONTEND.startswith("/"):
        path = FRONTEND.rstrip("/") + REALM
        host = handler.request.headers.get("X-Forwarded-Host")
        scheme = handler.request.headers.get("X-Forwarded-Proto", "http")
        return f"{scheme}://{host}{path}" if host else path
    return ISSUER


def roles_of(user, client_id):
    """The client's roles the user holds: declared on the user, by e-group, or for everyone."""
    client = CLIENTS.get(client_id, {})
    roles = set(user.get("roles", {}).get(client_id, [])) | set(client.get("default_roles", []))
    for group in user.get("groups", []):
        roles |= set(client.get("roles_by_group", {}).get(group, []))
    return sorted(roles)


def sign(claims):
    return jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": KID})


def tokens(client_id, subject, scope="openid profile email", nonce=None, session=None):
    """Access, refresh and (for openid) ID tokens for `subject`: a user, or a client's service account."""
    now = int(time.time())
    session = session or secrets.token_hex(12)
    if subject in USERS:
        user = USERS[subject]
        identity = {
            "sub": subject,
            "preferred_username": subject,
            "email": user.get("email", f"{subject}@example.org"),
            "name": user.get("name", subject),
            "cern_roles": roles_of(user, client_id),
            "groups": user.get("groups", []),
        }
    else:  # a client's service account (client credentials)
        identity = {
            "sub": f"service-account-{subject}",
            "preferred_username": f"service-account-{subject}",
            "cern_roles": sorted(CLIENTS[subject].get("service_account_roles", [])),
            "groups": [],
        }
    base = {"iss": ISSUER, "iat": now, "sid": session, "azp": client_id, **identity}
    access = sign({**base, "aud": client_id, "typ": "Bearer", "scope": scope, "exp": now + ACCESS_SECONDS})
    refresh = sign({**base, "aud": ISSUER, "typ": "Refresh", "scope": scope, "exp": now + REFRESH_SECONDS})
    body = {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": ACCESS_SECONDS,
        "refresh_token": refresh,
        "refresh_expires_in": REFRESH_SECONDS,
        "scope": scope,
        "session_state": session,
    }
    if "openid" in scope.split():
        claims = {**base, "aud": client_id, "typ": "ID", "exp": now + ACCESS_SECONDS}
        if nonce:
            claims["nonce"] = nonce
        body["id_token"] = sign(claims)
    return body


def verify(token, audience=None, kind="Bearer"):
    """The claims of a token this provider issued, still valid, of `kind`; None otherwise."""
    try:
        claims = jwt.decode(
            token, KEY.public_key(), algorithms=["RS256"], issuer=ISSUER, options={"verify_aud": False}
        )
    except jwt.PyJWTError:
        return None
    if claims.get("typ") != kind or claims.get("sid") in REVOKED:
        return None
    if audience and claims.get("aud") != audience:
        return None
    return claims


def redirect_allowed(client, uri):
    for allowed in client.get("redirect_uris", ["*"]):
        if allowed == uri or (allowed.endswith("*") and uri.startswith(allowed[:-1])):
            return True
    return False


class Error(tornado.web.HTTPError):
    def __init__(self, status, error, description):
        super().__init__(status, description)
        self.error, self.description = error, description


class Base(tornado.web.RequestHandler):
    def write_error(self, status_code, **kwargs):
        error = kwargs.get("exc_info", (None, None))[1]
        self.set_header("Content-Type", "application/json")
        self.finish(
            {
                "error": getattr(error, "error", "invalid_request"),
                "error_description": getattr(error, "description", self._reason),
            }
        )


class Discovery(Base):
    def get(self):
        browser = frontend(self)
        self.write(
            {
                "issuer": ISSUER,
                "authorization_endpoint": browser + "/protocol/openid-connect/auth",
                "token_endpoint": ISSUER + "/protocol/openid-connect/token",
                "userinfo_endpoint": ISSUER + "/protocol/openid-connect/userinfo",
                "jwks_uri": ISSUER + "/protocol/openid-connect/certs",
                "end_session_endpoint": browser + "/protocol/openid-connect/logout",
                "grant_types_supported": [
                    "authorization_code",
                    "refresh_token",
                    "client_credentials",
                    "password",
                    "urn:ietf:params:oauth:grant-type:token-exchange",
                ],
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                "code_challenge_methods_supported": ["S256", "plain"],
                "scopes_supported": ["openid", "profile", "email"],
            }
        )


class Certs(Base):
    def get(self):
        public = KEY.public_key().public_numbers()
        key = {"kty": "RSA", "kid": KID, "use": "sig", "alg": "RS256", "n": b64(public.n), "e": b64(public.e)}
        self.write({"keys": [key]})


LOGIN_PAGE = """<!doctype html><title>Sign in - CERN (local)</title>
<h1>Sign in to {client}</h1><p>Local identity provider standing in for CERN SSO.</p>
<form method="post">{hidden}{error}
<label>Username <input name="username" autofocus></label>
<label>Password <input name="password" type="password"></label>
<button type="submit">Sign in</button></form>"""


class Authorize(Base):
    """The login page (GET) and its form (POST): on success, back to the client with a code."""

    def check_request(self):
        client = CLIENTS.get(self.get_argument("client_id", ""))
        redirect_uri = self.get_argument("redirect_uri", "")
        if client is None or not redirect_allowed(client, redirect_uri):
            raise Error(400, "invalid_request", "unknown client or redirect_uri not registered")
        if self.get_argument("response_type", "") != "code":
            raise Error(400, "unsupported_response_type", "only response_type=code")
        if "secret" not in client and not self.get_argument("code_challenge", ""):
            raise Error(400, "invalid_request", "a public client must send a PKCE code_challenge")
        return client, redirect_uri

    def get(self):
        client, _ = self.check_request()
        self.page(client)

    def page(self, client, error=""):
        keep = ("client_id", "redirect_uri", "response_type", "scope", "state", "nonce")
        keep += ("code_challenge", "code_challenge_method")
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(self.get_argument(name, ""))}">' for name in keep
        )
        self.write(LOGIN_PAGE.format(client=html.escape(client["client_id"]), hidden=hidden, error=error))

    def post(self):
        client, redirect_uri = self.check_request()
        username = self.get_argument("username", "")
        user = USERS.get(username)
        if user is None or not secrets.compare_digest(user["password"], self.get_argument("password", "")):
            self.set_status(401)
            return self.page(client, "<p role=alert>Invalid username or password.</p>")
        code = secrets.token_urlsafe(24)
        CODES[code] = (
            client["client_id"],
            redirect_uri,
            username,
            self.get_argument("nonce", None),
            self.get_argument("code_challenge", ""),
            self.get_argument("code_challenge_method", "plain"),
            time.time() + CODE_SECONDS,
        )
        print(f"signed in {username} for {client['client_id']}", flush=True)
        query = urllib.parse.urlencode({"code": code, "state": self.get_argument("state", ""), "session_state": "-"})
        separator = "&" if "?" in redirect_uri else "?"
        self.redirect(f"{redirect_uri}{separator}{query}")


class Token(Base):
    def authenticate(self):
        """The calling client: secret by POST or HTTP basic; a public client by its id alone."""
        client_id, secret = self.get_argument("client_id", ""), self.get_argument("client_secret", None)
        header = self.request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            client_id, secret = urllib.parse.unquote(client_id), urllib.parse.unquote(secret)
        client = CLIENTS.get(client_id)
        if client is None:
            raise Error(401, "invalid_client", "unknown client")
        if "secret" in client and not secrets.compare_digest(client["secret"], secret or ""):
            raise Error(401, "invalid_client", "bad client credentials")
        return client

    def post(self):
        client = self.authenticate()
        grant = self.get_argument("grant_type", "")
        scope = self.get_argument("scope", "openid profile email")
        if grant == "authorization_code":
            issued = CODES.pop(self.get_argument("code", ""), None)
            if issued is None or issued[6] < time.time():
                raise Error(400, "invalid_grant", "unknown or expired code")
            client_id, redirect_uri, username, nonce, challenge, method, _ = issued
            if client_id != client["client_id"] or redirect_uri != self.get_argument("redirect_uri", ""):
                raise Error(400, "invalid_grant", "code issued to another client or redirect_uri")
            if challenge:
                verifier = self.get_argument("code_verifier", "")
                if method == "S256":
                    digest = hashlib.sha256(verifier.encode()).digest()
                    verifier = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
                if not secrets.compare_digest(verifier, challenge):
                    raise Error(400, "invalid_grant", "PKCE verification failed")
            return self.write(tokens(client_id, username, nonce=nonce))
        if grant == "refresh_token":
            claims = verify(self.get_argument("refresh_token", ""), kind="Refresh")
            if claims is None or claims["azp"] != client["client_id"]:
                raise Error(400, "invalid_grant", "invalid refresh token")
            subject = claims["preferred_username"].removeprefix("service-account-")
            return self.write(tokens(client["client_id"], subject, claims["scope"], session=claims["sid"]))
        if grant == "client_credentials":
            if "secret" not in client:
                raise Error(400, "unauthorized_client", "a public client has no service account")
            return self.write(tokens(client["client_id"], client["client_id"], scope="profile email"))
        if grant == "password":
            user = USERS.get(self.get_argument("username", ""))
            if user is None or not secrets.compare_digest(user["password"], self.get_argument("password", "")):
                raise Error(401, "invalid_grant", "Invalid user credentials")
            return self.write(tokens(client["client_id"], user["username"], scope))
        if grant == "urn:ietf:params:oauth:grant-type:token-exchange":
            claims = verify(self.get_argument("subject_token", ""))
            if claims is None:
                raise Error(400, "invalid_token", "invalid subject_token")
            audience = self.get_argument("audience", client["client_id"])
            target = CLIENTS.get(audience)
            if target is None:
                raise Error(400, "invalid_request", f"unknown audience {audience}")
            allowed = claims["aud"] == audience or claims["aud"] in target.get("token_exchange_from", [])
            if audience != client["client_id"] or not allowed:
                raise Error(403, "access_denied", f"{claims['aud']} may not exchange tokens for {audience}")
            subject = claims["preferred_username"].removeprefix("service-account-")
            body = tokens(audience, subject, scope, session=claims["sid"])
            body["issued_token_type"] = "urn:ietf:params:oauth:token-type:access_token"
            return self.write(body)
        raise Error(400, "unsupported_grant_type", f"unsupported grant_type {grant!r}")


class UserInfo(Base):
    def get(self):
        claims = verify(self.request.headers.get("Authorization", "").removeprefix("Bearer "))
        if claims is None:
            raise Error(401, "invalid_token", "invalid or expired access token")
        keys = ("sub", "preferred_username", "email", "name", "cern_roles", "groups")
        self.write({key: claims[key] for key in keys if key in claims})

    post = get


class Logout(Base):
    """Ends the session of id_token_hint (its refresh tokens stop working), then redirects."""

    def get(self):
        hint = self.get_argument("id_token_hint", "")
        claims = verify(hint, kind="ID") if hint else None
        if claims:
            REVOKED.add(claims["sid"])
        target = self.get_argument("post_logout_redirect_uri", "")
        client = CLIENTS.get(claims["azp"]) if claims else None
        if target and client and redirect_allowed(client, target):
            return self.redirect(target)
        self.write("<!doctype html><title>Signed out</title><p>You are signed out.</p>")

    def post(self):  # the back channel: a client ends a session with its refresh token
        claims = verify(self.get_argument("refresh_token", ""), kind="Refresh")
        if claims:
            REVOKED.add(claims["sid"])
        self.set_status(204)


class Health(Base):
    def get(self):
        self.write({"status": "ok", "users": len(USERS), "clients": len(CLIENTS)})


if __name__ == "__main__":
    app = tornado.web.Application(
        [
            (REALM + r"/\.well-known/openid-configuration", Discovery),
            (OIDC + r"/auth", Authorize),
            (OIDC + r"/token", Token),
            (OIDC + r"/userinfo", UserInfo),
            (OIDC + r"/certs", Certs),
            (OIDC + r"/logout", Logout),
            (r"/healthz", Health),
        ]
    )
    app.listen(int(os.environ.get("SSO_PORT", "8080")))
    print(f"sso: {len(USERS)} users, {len(CLIENTS)} clients, issuer {ISSUER}", flush=True)
    tornado.ioloop.IOLoop.current().start()
