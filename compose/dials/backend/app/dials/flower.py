"""A flower stand-in (flower is not packaged in Debian): the workers, their queues and active
tasks from celery's remote control, as JSON on :5555 — what an operator checks before a rollout."""
from http.server import ThreadingHTTPServer

from stackkit.jsonhttp import JSONHandler

from dials.celery import app


class Handler(JSONHandler):
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
        self.reply(status, body)


if __name__ == "__main__":
    import django

    django.setup()
    ThreadingHTTPServer(("0.0.0.0", 5555), Handler).serve_forever()
