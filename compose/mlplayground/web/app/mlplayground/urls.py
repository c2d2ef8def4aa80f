import os

from django.conf import settings
from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from stackkit.health import healthz_view

from histograms import views

database_health = healthz_view()


def healthz(request):
    """The database, and every DQMIO storage directory mounted and readable (as production's
    readiness probe stats the EOS path)."""
    missing = [d for d in settings.DIR_PATH_DQMIO_STORAGE if not os.access(d, os.R_OK | os.X_OK)]
    if missing:
        return JsonResponse({"status": "unavailable", "unreadable": missing}, status=503)
    return database_health(request)


urlpatterns = [
    path("healthz", healthz),
    path("api/files/", views.files),
    path("api/histograms/", views.histograms),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]
