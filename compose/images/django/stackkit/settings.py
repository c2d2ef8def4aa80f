"""Django settings from the variables the CERN deployment guides set on OpenShift."""
import os


def env(name, default=None):
    """The variable's value; a missing variable without a default is an error naming it."""
    value = os.environ.get(name, default)
    if value is None:
        raise RuntimeError(f"the environment variable {name} is not set")
    return value


def env_bool(name, default=False):
    return env(name, str(default)).strip().lower() in ("1", "true", "yes", "on")


def env_list(name, default="", separator=","):
    return [item.strip() for item in env(name, default).split(separator) if item.strip()]


def database(prefix="DJANGO_DATABASE_", name=None):
    """One DATABASES entry from DJANGO_DATABASE_{ENGINE,NAME,USER,PASSWORD,HOST,PORT}."""
    return {
        "ENGINE": env(prefix + "ENGINE", "django.db.backends.postgresql"),
        "NAME": name or env(prefix + "NAME"),
        "USER": env(prefix + "USER"),
        "PASSWORD": env(prefix + "PASSWORD"),
        "HOST": env(prefix + "HOST"),
        "PORT": env(prefix + "PORT", "5432"),
        # A connection per request: `devenv db reset` and snapshots end sessions, and Django 3.2
        # would fail the next request on a kept connection that the server closed.
        "CONN_MAX_AGE": 0,
    }


def redis_url(host_variable="REDIS_HOST", password_variable="REDIS_PASSWORD", port=6379, db=0):
    """redis://:PASSWORD@HOST:PORT/DB from the guide's REDIS_HOST/REDIS_PASSWORD pair."""
    host = env(host_variable)
    password = os.environ.get(password_variable, "")
    auth = f":{password}@" if password else ""
    return f"redis://{auth}{host}:{port}/{db}"


def base(app_name, apps=(), middleware=()):
    """The settings every app shares; the app adds its own on top."""
    return {
        "SECRET_KEY": env("DJANGO_SECRET_KEY"),
        "DEBUG": env_bool("DJANGO_DEBUG"),
        "ALLOWED_HOSTS": env_list("DJANGO_ALLOWED_HOSTS", "*"),
        "CSRF_TRUSTED_ORIGINS": env_list("CSRF_TRUSTED_ORIGINS"),
        "INSTALLED_APPS": [
            "django.contrib.admin",
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "django.contrib.staticfiles",
            *apps,
        ],
        "MIDDLEWARE": [
            "django.middleware.security.SecurityMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
            *middleware,
        ],
        "ROOT_URLCONF": f"{app_name}.urls",
        "TEMPLATES": [
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                    ]
                },
            }
        ],
        "DEFAULT_AUTO_FIELD": "django.db.models.AutoField",
        "USE_TZ": True,
        "STATIC_URL": "/static/",
        "STATIC_ROOT": "/app/staticfiles",
        "LOGGING": {
            "version": 1,
            "disable_existing_loggers": False,  # keeps gunicorn's access log
            "handlers": {"console": {"class": "logging.StreamHandler"}},
            "root": {"handlers": ["console"], "level": "INFO"},
        },
    }
