"""The calculator UI (production: cern_caimira): a form, and a report computed by the model API
(CAIMIRA_API_URL) for the user the auth service vouched for (X-Auth-User from the router)."""
import html
import json
import os

import tornado.httpclient
import tornado.ioloop
import tornado.web

API = os.environ.get("CAIMIRA_API_URL", "http://caimira-api:8081")
FORM = """<!doctype html><html><head><title>CAiMIRA calculator</title></head><body>
<h1>CAiMIRA calculator</h1><p>Signed in as {user}</p>
<form action="{prefix}/calculator/report" method="get">
<label>Room volume (m³) <input name="room_volume" value="60"></label>
<label>Air changes per hour <input name="air_changes" value="3"></label>
<label>Exposure (h) <input name="exposure_hours" value="2"></label>
<label>Infected people <input name="infected_people" value="1"></label>
<select name="activity"><option>seated</option><option>speaking</option><option>light-exercise</option></select>
<button>Generate report</button></form></body></html>"""


class Form(tornado.web.RequestHandler):
    def get(self):
        user = html.escape(self.request.headers.get("X-Auth-User", "anonymous"))
        self.write(FORM.format(user=user, prefix=os.environ.get("APPLICATION_ROOT", "")))


class Report(tornado.web.RequestHandler):
    async def get(self):
        form = {name: self.get_argument(name) for name in self.request.arguments}
        client = tornado.httpclient.AsyncHTTPClient()
        response = await client.fetch(
            f"{API}/api/virus_report", method="POST", body=json.dumps(form), raise_error=False, request_timeout=10
        )
        self.set_status(response.code if response.code != 599 else 502)
        body = json.loads(response.body) if response.body else {"error": "model API unreachable"}
        body["user"] = self.request.headers.get("X-Auth-User", "anonymous")
        self.write(body)


class Health(tornado.web.RequestHandler):
    def get(self):
        self.write({"status": "ok"})


if __name__ == "__main__":
    app = tornado.web.Application(
        [(r"/calculator/?", Form), (r"/calculator/report", Report), (r"/healthz", Health), (r"/", Form)]
    )
    app.listen(int(os.environ.get("CALCULATOR_PORT", "8080")))
    tornado.ioloop.IOLoop.current().start()
