"""Rucio OpInt backend settings: secrets only from the environment (the talk's first issue was
DB keys in a private repository), the database by DJANGO_DATABASE_* (DBoD in production)."""
from stackkit import settings as kit

globals().update(kit.base("opint", apps=["rest_framework", "api"]))
DATABASES = {"default": kit.database()}
OPINT_FEED_DIR = kit.env("OPINT_FEED_DIR", "/data/feed")
REST_FRAMEWORK = {"DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination", "PAGE_SIZE": 100}
