"""DIALS' sign-in as production wires it to CERN SSO (here the local provider, compose/sso): the
frontend (a public client) or an API client (client credentials) sends its access token; the
backend exchanges it (RFC 8693) for a token of its own confidential application, checks that
token against the provider's JWKS, and routes the user to a workspace by the application roles
(`cern_roles`) that the user's e-groups give."""
import json
import os
import urllib.parse
import urllib.request

import jwt
from django.conf import settings
from django.http import JsonResponse

DISCOVERY = os.environ.get("DIALS_OIDC_DISCOVERY_URL", "")
CLIENT_ID = os.environ.get("DIALS_OIDC_CLIENT_ID", "")
CLIENT_SECRET = os.environ.get("DIALS_OIDC_CLIENT_SECRET", "")
_config = {}


def config():
    if not _config:
        with urllib.request.urlopen(DISCOVERY, timeout=5) as response:
            _config.update(json.load(response))
    return _config


def exchange(token):
    """The confidential application's token for `token`, or the provider's refusal."""
    body = urllib.parse.urlencode(
        {
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "subject_token": token,
            "subject_token_type": "urn:ietf:params:oauth:token-type:access_token",
            "audience": CLIENT_ID,
        }
    ).encode()
    request = urllib.request.Request(config()["token_endpoint"], data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)["access_token"], None
    except urllib.error.HTTPError as error:
        return None, json.load(error)


def me(request):
    """Who the bearer token is, its roles in the confidential application, and its workspace."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or not DISCOVERY:
        return JsonResponse({"error": "a bearer token from the SSO is required"}, status=401)
    token, refusal = exchange(header.removeprefix("Bearer "))
    if token is None:
        return JsonResponse({"error": "token exchange refused", "sso": refusal}, status=403)
    key = jwt.PyJWKClient(config()["jwks_uri"]).get_signing_key_from_jwt(token).key
    claims = jwt.decode(token, key, algorithms=["RS256"], audience=CLIENT_ID, issuer=config()["issuer"])
    roles = claims.get("cern_roles", [])
    workspace = next((role for role in roles if role in settings.WORKSPACES), None)
    return JsonResponse(
        {
            "username": claims["preferred_username"],
            "email": claims.get("email"),
            "roles": roles,
            "groups": claims.get("groups", []),
            "workspace": workspace or settings.WORKSPACES[0],
            "azp": claims["azp"],
        }
    )
