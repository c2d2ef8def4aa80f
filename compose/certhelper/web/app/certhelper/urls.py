from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from stackkit.health import healthz_view

from certifier import views

urlpatterns = [
    path("healthz", healthz_view([settings.REDIS_URL])),
    path("", views.index),
    path("certifications/", views.certifications),
    path("channels-check", views.channels_check),
    path("certificate-check", views.certificate_check),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]
