"""HTTP through Django, websockets through channels (live shift updates), as daphne serves
certhelper in production."""
import os

import django
from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application
from django.urls import path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "certhelper.settings")
django.setup()

from certifier.consumers import ShiftConsumer  # noqa: E402 (needs the apps loaded)

application = ProtocolTypeRouter(
    {
        "http": get_asgi_application(),
        "websocket": URLRouter([path("ws/shift/", ShiftConsumer.as_asgi())]),
    }
)
