import json

import redis
from django.conf import settings
from django.http import JsonResponse

from tables.models import FileIndex, Run


def workspace_of(request):
    workspace = request.GET.get("workspace") or request.headers.get("Workspace") or settings.WORKSPACES[0]
    if workspace not in settings.WORKSPACES:
        return None
    return workspace


def workspaces(request):
    """The workspaces, cached in the web Redis as production caches its lookups."""
    cache = redis.Redis.from_url(settings.CACHE_REDIS_URL) if settings.CACHE_REDIS_URL else None
    cached = cache.get("dials:workspaces") if cache else None
    if cached:
        return JsonResponse({"workspaces": json.loads(cached), "cached": True})
    if cache:
        cache.set("dials:workspaces", json.dumps(settings.WORKSPACES), ex=60)
    return JsonResponse({"workspaces": settings.WORKSPACES, "cached": False})


def runs(request):
    workspace = workspace_of(request)
    if workspace is None:
        return JsonResponse({"error": "unknown workspace"}, status=404)
    rows = Run.objects.using(workspace).select_related("dataset").order_by("-run_number", "dataset_id")[:100]
    return JsonResponse(
        {
            "workspace": workspace,
            "results": [
                {"run_number": r.run_number, "dataset": r.dataset.dataset, "ls_count": r.ls_count} for r in rows
            ],
        }
    )


def file_index(request):
    workspace = workspace_of(request)
    if workspace is None:
        return JsonResponse({"error": "unknown workspace"}, status=404)
    rows = FileIndex.objects.using(workspace).order_by("id")[:100]
    return JsonResponse(
        {"workspace": workspace, "results": [{"path": f.path, "status": f.status, "st_size": f.st_size} for f in rows]}
    )
