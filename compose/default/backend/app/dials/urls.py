import redis
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.conf import settings


def healthz(request):
    """Ready when the database answers as the app's role and the broker accepts its password."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        user = cursor.fetchone()[0]
    if settings.CELERY_BROKER_URL:
        redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2).ping()
    return JsonResponse({"status": "ok", "database_user": user})


def index(request):
    return HttpResponse("dials backend\n")


urlpatterns = [path("healthz", healthz), path("", index)]
