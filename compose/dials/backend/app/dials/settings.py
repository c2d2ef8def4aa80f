"""DIALS settings: one database per workspace (DJANGO_WORKSPACES), a Redis cache for the web
tier and a password-protected Redis broker for the ETL, from the production variable names."""
from stackkit import settings as kit

globals().update(kit.base("dials", apps=["django.contrib.sites", "rest_framework", "tables"]))

# DJANGO_WORKSPACES=tracker,ecal,…: the ETL tables of workspace W live in database
# <DJANGO_DATABASE_NAME>_W; without it, one workspace ("default") in the default database.
WORKSPACES = kit.env_list("DJANGO_WORKSPACES") or ["default"]
DATABASES = {"default": kit.database()}
for workspace in WORKSPACES:
    if workspace != "default":
        DATABASES[workspace] = kit.database(name=f"{DATABASES['default']['NAME']}_{workspace}")
DATABASE_ROUTERS = ["tables.routers.WorkspaceRouter"]
SITE_ID = int(kit.env("DJANGO_SITE_ID", "1"))

# The web tier's cache (Django 3.2 has no Redis cache backend; the API uses redis-py directly).
CACHE_REDIS_URL = kit.env("DJANGO_CACHE_REDIS_URL", "")

CELERY_BROKER_URL = kit.env("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = kit.env("CELERY_RESULT_BACKEND", "")
CELERY_BEAT_SCHEDULE_FILENAME = "/tmp/celerybeat-schedule"
# common-redbeat: celery beat with redbeat's scheduler, its schedule and lock in the broker's Redis.
CELERY_REDBEAT_REDIS_URL = CELERY_BROKER_URL
CELERY_REDBEAT_KEY_PREFIX = "redbeat:"
