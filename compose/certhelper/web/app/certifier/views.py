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


def certificate_check(request):
    """The certificate cernrequests presents to CERN's APIs (CERN_CERTIFICATE_PATH): readable,
    its key matching, and who it names."""
    import os

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from django.conf import settings

    directory = settings.CERN_CERTIFICATE_PATH
    try:
        with open(os.path.join(directory, "usercert.pem"), "rb") as cert_file:
            cert = x509.load_pem_x509_certificate(cert_file.read())
        with open(os.path.join(directory, "userkey.pem"), "rb") as key_file:
            key = serialization.load_pem_private_key(key_file.read(), password=None)
    except (OSError, ValueError) as error:
        return JsonResponse({"error": f"no usable certificate in {directory!r}: {error}"}, status=503)
    return JsonResponse(
        {
            "subject": cert.subject.rfc4514_string(),
            "issuer": cert.issuer.rfc4514_string(),
            "key_matches": key.public_key().public_numbers() == cert.public_key().public_numbers(),
            "not_after": cert.not_valid_after.isoformat(),
        }
    )
