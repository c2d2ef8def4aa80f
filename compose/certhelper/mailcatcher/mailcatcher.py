"""A mail catcher for the app's DJANGO_EMAIL_* settings: an SMTP server on :1025 that keeps
every message in memory (nothing leaves the machine) and a JSON view of them on :8025
(GET /messages, DELETE /messages). The standard library, and stackkit from devenv-django:3.2."""
import asyncore
import email
import email.policy
import smtpd
import threading
import warnings
from http.server import ThreadingHTTPServer

from stackkit.jsonhttp import JSONHandler

warnings.filterwarnings("ignore", category=DeprecationWarning)
MESSAGES = []
LOCK = threading.Lock()


class Catcher(smtpd.SMTPServer):
    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        message = email.message_from_bytes(data, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain", "html"))
        with LOCK:
            MESSAGES.append(
                {
                    "from": mailfrom,
                    "to": rcpttos,
                    "subject": str(message["Subject"] or ""),
                    "body": body.get_content() if body else "",
                }
            )
        print(f"caught mail from {mailfrom} to {', '.join(rcpttos)}: {message['Subject']}", flush=True)


class Inbox(JSONHandler):
    def do_GET(self):
        if self.path == "/healthz":
            return self.reply(200, {"status": "ok"})
        if self.path == "/messages":
            with LOCK:
                return self.reply(200, list(MESSAGES))
        self.reply(404, {"error": "not found"})

    def do_DELETE(self):
        if self.path == "/messages":
            with LOCK:
                MESSAGES.clear()
            return self.reply(200, [])
        self.reply(404, {"error": "not found"})

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    Catcher(("0.0.0.0", 1025), None, decode_data=False)
    threading.Thread(target=asyncore.loop, daemon=True).start()
    print("mail catcher: SMTP on :1025, messages on http://:8025/messages", flush=True)
    ThreadingHTTPServer(("0.0.0.0", 8025), Inbox).serve_forever()
