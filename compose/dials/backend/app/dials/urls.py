from django.conf import settings
from django.contrib import admin
from django.urls import path
from stackkit.health import healthz_view

from tables import auth, views


def redis_urls():
    return [url for url in (settings.CELERY_BROKER_URL, settings.CACHE_REDIS_URL) if url]


urlpatterns = [
    path("healthz", healthz_view(redis_urls)),
    path("api/v1/workspaces", views.workspaces),
    path("api/v1/auth/me", auth.me),
    path("api/v1/run/", views.runs),
    path("api/v1/file-index/", views.file_index),
    path("admin/", admin.site.urls),
]
