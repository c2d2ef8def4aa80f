"""The caimira model as a standalone API (production: the `caimira` package's API)."""
import json
import os

import tornado.ioloop
import tornado.web

from caimira_app.model import InvalidInput, report


class VirusReport(tornado.web.RequestHandler):
    def post(self):
        try:
            form = json.loads(self.request.body or b"{}")
            self.write(report(form))
        except (InvalidInput, json.JSONDecodeError) as error:
            self.set_status(400)
            self.write({"error": str(error)})


class Health(tornado.web.RequestHandler):
    def get(self):
        self.write({"status": "ok"})


if __name__ == "__main__":
    app = tornado.web.Application([(r"/api/virus_report", VirusReport), (r"/healthz", Health)])
    app.listen(int(os.environ.get("API_PORT", "8081")))
    tornado.ioloop.IOLoop.current().start()
