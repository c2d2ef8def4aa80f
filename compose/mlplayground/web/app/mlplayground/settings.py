"""MLPlayground settings, from the variables of its OpenShift deployment guide."""
from stackkit import settings as kit

globals().update(
    kit.base(
        "mlplayground",
        apps=[
            "django.contrib.sites",
            "allauth",
            "allauth.account",
            "allauth.socialaccount",
            "allauth.socialaccount.providers.keycloak",
            "rest_framework",
            "histograms",
        ],
    )
)

DATABASES = {"default": kit.database()}
# SITE_ID stays empty until single sign-on is configured (the guide's step 10).
SITE_ID = int(kit.env("SITE_ID", "") or 1)
DIR_PATH_DQMIO_STORAGE = kit.env_list("DIR_PATH_DQMIO_STORAGE", "", separator=":")

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
# CERN SSO: production uses allauth's "cern" provider, which current allauth points at CERN's
# Keycloak (auth.cern.ch/auth/realms/cern); Debian's allauth (0.51) still has the retired
# oauth.web.cern.ch endpoints there, so its Keycloak provider, the same OIDC flow, stands in.
# CERN_SSO_URL is where browsers sign in ("/auth" on this app's origin locally, forwarded to the
# local provider by SSO_PROXY_URL below), CERN_SSO_URL_INTERNAL where the app fetches tokens.
SOCIALACCOUNT_PROVIDERS = {
    "keycloak": {
        "KEYCLOAK_URL": kit.env("CERN_SSO_URL", "https://auth.cern.ch/auth"),
        "KEYCLOAK_URL_ALT": kit.env("CERN_SSO_URL_INTERNAL", "") or None,
        "KEYCLOAK_REALM": "cern",
        "APP": {
            "client_id": kit.env("CERN_SSO_REGISTRATION_CLIENT_ID", ""),
            "secret": kit.env("CERN_SSO_REGISTRATION_CLIENT_SECRET", ""),
        },
    }
}
# Locally only: /auth/realms/… on this app's origin is passed to the identity provider (the
# app has no proxy in front of it, as production has none: its route goes to CERN SSO itself).
SSO_PROXY_URL = kit.env("SSO_PROXY_URL", "")
ACCOUNT_EMAIL_VERIFICATION = "none"
