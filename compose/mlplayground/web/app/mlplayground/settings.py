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
            "allauth.socialaccount.providers.cern",
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
SOCIALACCOUNT_PROVIDERS = {
    "cern": {
        "APP": {
            "client_id": kit.env("CERN_SSO_REGISTRATION_CLIENT_ID", ""),
            "secret": kit.env("CERN_SSO_REGISTRATION_CLIENT_SECRET", ""),
        }
    }
}
ACCOUNT_EMAIL_VERIFICATION = "none"
