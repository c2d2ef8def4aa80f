"""certhelper settings, from the variables of its OpenShift deployment guide."""
from stackkit import settings as kit

globals().update(
    kit.base(
        "certhelper",
        apps=[
            "django.contrib.sites",
            "allauth",
            "allauth.account",
            "allauth.socialaccount",
            "allauth.socialaccount.providers.keycloak",
            "channels",
            "certifier",
        ],
    )
)

DATABASES = {"default": kit.database()}  # DJANGO_DATABASE_ENGINE: postgresql_psycopg2 in the guide
SITE_ID = int(kit.env("SITE_ID", "1"))
ASGI_APPLICATION = "certhelper.asgi.application"

# channels-redis is the backing store of the websocket layer (the guide's "Add Redis Server").
REDIS_URL = kit.redis_url()
CHANNEL_LAYERS = {
    "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
}

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = kit.env("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(kit.env("DJANGO_EMAIL_PORT", "587"))
EMAIL_USE_TLS = kit.env_bool("DJANGO_EMAIL_USE_TLS")
EMAIL_HOST_USER = kit.env("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = kit.env("DJANGO_EMAIL_HOST_PASSWORD", "")
SERVER_EMAIL = DEFAULT_FROM_EMAIL = kit.env("DJANGO_SERVER_EMAIL", "certhelper@localhost")
CERN_CERTIFICATE_PATH = kit.env("CERN_CERTIFICATE_PATH", "")

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_EMAIL_VERIFICATION = "none"
LOGIN_REDIRECT_URL = "/"
# Production uses allauth's openid_connect provider against CERN's Keycloak; Debian's allauth
# (0.51) predates it, so its keycloak provider, the same OIDC flow, stands in.
# OIDC_SERVER_URL is where browsers go to sign in (here "/auth" on certhelper's own origin,
# which nginx forwards to the local provider), OIDC_SERVER_URL_INTERNAL where the app fetches
# tokens; OIDC_CLIENT_ID/_SECRET, when set, is the SSO registration (else the SocialApp row).
SOCIALACCOUNT_PROVIDERS = {
    "keycloak": {
        "KEYCLOAK_URL": kit.env("OIDC_SERVER_URL", "https://auth.cern.ch/auth"),
        "KEYCLOAK_URL_ALT": kit.env("OIDC_SERVER_URL_INTERNAL", "") or None,
        "KEYCLOAK_REALM": "cern",
    }
}
if kit.env("OIDC_CLIENT_ID", ""):
    SOCIALACCOUNT_PROVIDERS["keycloak"]["APP"] = {
        "client_id": kit.env("OIDC_CLIENT_ID", ""),
        "secret": kit.env("OIDC_CLIENT_SECRET", ""),
    }
STATIC_ROOT = "/srv/static"
