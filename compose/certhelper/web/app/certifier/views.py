import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.http import HttpResponse, JsonResponse

from certifier.models import TrackerCertification


def index(request):
    return HttpResponse("certhelper\n")


def certifications(request):
    rows = TrackerCertification.objects.select_related("reference_run", "user").order_by("-run_number")[:100]
    return JsonResponse(
        {
            "results": [
                {
                    "run_number": c.run_number,
                    "reference_run": c.reference_run.reference_run,
                    "shifter": c.user.username,
                    "pixel": c.pixel,
                    "strip": c.strip,
                    "tracking": c.tracking,
                }
                for c in rows
            ]
        }
    )


def channels_check(request):
    """A message through the Redis channel layer and back: the websocket path's backing store."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    token = uuid.uuid4().hex
    async_to_sync(layer.send)(channel, {"type": "check", "token": token})
    message = async_to_sync(layer.receive)(channel)
    return JsonResponse({"round_trip": message["token"] == token})
