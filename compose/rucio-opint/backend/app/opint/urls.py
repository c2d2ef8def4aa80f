from django.contrib import admin
from django.urls import include, path
from rest_framework import routers
from stackkit.health import healthz_view

from api import views

router = routers.DefaultRouter()
router.register("issues", views.IssueViewSet)
router.register("categories", views.CategoryViewSet)
router.register("actions", views.ActionViewSet)

urlpatterns = [
    path("healthz", healthz_view()),
    path("api/", include(router.urls)),
    path("admin/", admin.site.urls),
]
