import os

from django.conf import settings
from django.contrib import admin
import requests
from django.http import HttpResponse, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
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


@csrf_exempt
def sso_proxy(request, rest):
    """/auth/realms/… passed to SSO_PROXY_URL (the local identity provider), with the origin the
    browser used, so its sign-in page and redirects stay on this app's origin."""
    upstream = requests.request(
        request.method,
        settings.SSO_PROXY_URL + request.get_full_path(),
        data=request.body,
        headers={
            "Content-Type": request.content_type or "",
            "X-Forwarded-Host": request.get_host(),
            "X-Forwarded-Proto": request.scheme,
        },
        allow_redirects=False,
        timeout=10,
    )
    response = HttpResponse(upstream.content, status=upstream.status_code)
    for header in ("Content-Type", "Location"):
        if header in upstream.headers:
            response[header] = upstream.headers[header]
    return response


urlpatterns = [
    path("healthz", healthz),
    path("api/files/", views.files),
    path("api/histograms/", views.histograms),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]
if settings.SSO_PROXY_URL:
    urlpatterns.append(path("auth/realms/<path:rest>", sso_proxy))
