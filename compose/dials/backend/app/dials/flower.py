"""A flower stand-in (flower is not packaged in Debian): the workers, their queues and active
tasks from celery's remote control, as JSON on :5555 — what an operator checks before a rollout."""
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from dials.celery import app


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/healthz":
            body, status = {"status": "ok"}, 200
        elif self.path.startswith("/api/workers"):
            inspect = app.control.inspect(timeout=2)
            queues = inspect.active_queues() or {}
            active = inspect.active() or {}
            body = {
                name: {"queues": [q["name"] for q in queues[name]], "active": len(active.get(name, []))}
                for name in sorted(queues)
            }
            status = 200
        else:
            body, status = {"error": "not found"}, 404
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


if __name__ == "__main__":
    import django

    django.setup()
    ThreadingHTTPServer(("0.0.0.0", 5555), Handler).serve_forever()
