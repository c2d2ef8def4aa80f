"""A /healthz view: ready only when every configured database answers as the app's role and
every Redis the app uses accepts its password, so a healthcheck on it proves the wiring."""
from django.db import connections
from django.http import JsonResponse


def healthz_view(redis_urls=()):
    def healthz(request):
        report = {"status": "ok", "databases": {}, "redis": []}
        status = 200
        for alias in connections:
            try:
                with connections[alias].cursor() as cursor:
                    cursor.execute("SELECT current_user, current_database()")
                    user, name = cursor.fetchone()
                report["databases"][alias] = {"user": user, "database": name}
            except Exception as error:  # the probe reports any failure as unhealthy
                report["databases"][alias] = {"error": str(error).splitlines()[0]}
                status = 503
        for url in redis_urls() if callable(redis_urls) else redis_urls:
            import redis

            client = redis.Redis.from_url(url, socket_timeout=2)
            try:
                client.ping()
                report["redis"].append({"db": client.connection_pool.connection_kwargs.get("db", 0)})
            except Exception as error:
                report["redis"].append({"error": str(error)})
                status = 503
        if status != 200:
            report["status"] = "unavailable"
        return JsonResponse(report, status=status)

    return healthz
