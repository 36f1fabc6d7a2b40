#!/usr/bin/env python3
"""fake_smarthub.py -- a local stand-in for a NISC SmartHub portal, for test_pull_cli.sh.

Serves, on 127.0.0.1 and a free port it prints on the first line of stdout, the
shapes FORMATS.md section A describes:

  GET  /ui/                              sets an XSRF-TOKEN cookie
  POST /services/oauth/auth/v2           form userId + password [+ twoFactorCode] ->
                                         {"status":"SUCCESS","authorizationToken":...}
  GET  /services/secured/accounts        [{"account": ..., "serviceLocations": [...]}]
  GET  /services/secured/user-data       [{"account": ..., "serviceLocationToIndustries": {...}}]
  POST /services/secured/utility-usage/poll   PENDING --pending times per request, then
                                         COMPLETE with --data (optionally only the points
                                         inside the requested days, --slice-tz)

and, by option, the failures seen in the wild: a wrong password, the HTTP 500 of a
two-factor account, a token that is already expired (401 once), an HTML page,
status FAILED, an answer that never completes, one that hangs.  With --cert/--key
it speaks TLS.  Every request is appended to --log as one JSON line (method, path,
the headers we check, body) so the test can look at what espigate sent.
"""
import argparse
import datetime
import http.server
import json
import ssl
import sys
import time
import urllib.parse
from zoneinfo import ZoneInfo

TOKEN = "tok-%d-s3cr3t-jwt"


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--log", required=True)
    p.add_argument("--data", help="COMPLETE poll answer to serve")
    p.add_argument("--slice-tz", help="serve only the points inside the requested local days")
    p.add_argument("--user", default="member@example.com")
    p.add_argument("--password", default="secret")
    p.add_argument("--account", default="7700123456")
    p.add_argument("--locations", default="5550123", help="comma-separated service locations")
    p.add_argument("--pending", type=int, default=1, help="PENDING answers before COMPLETE")
    p.add_argument("--xsrf", action="store_true", help="the login needs X-XSRF-TOKEN = the cookie")
    p.add_argument("--mfa", action="store_true", help="login answers 500 unless twoFactorCode=123456")
    p.add_argument("--bad-login-status", type=int, default=200,
                   help="HTTP status of a refused login (SmartHub: 200 without token, or 401)")
    p.add_argument("--expire-first-token", action="store_true", help="the first token gets 401")
    p.add_argument("--html", choices=["login", "poll"], help="answer there with an HTML page")
    p.add_argument("--poll-status", default="COMPLETE", help="e.g. FAILED")
    p.add_argument("--hang", type=float, default=0, help="seconds to sleep before a poll answer")
    p.add_argument("--no-accounts", action="store_true", help="/accounts is 404 (user-data only)")
    p.add_argument("--bare", action="store_true", help="COMPLETE answer without the status wrapper")
    return p.parse_args()


ARGS = parse_args()
STATE = {"logins": 0, "polls": {}}


def slice_answer(doc, start_ms, end_ms, zone):
    """Keep the points whose wall-clock-as-UTC x falls in [start, end) true UTC."""
    z = ZoneInfo(zone)

    def inside(x):
        wall = datetime.datetime.fromtimestamp(x / 1000, datetime.timezone.utc).replace(tzinfo=None)
        t = wall.replace(tzinfo=z).timestamp() * 1000
        return start_ms <= t < end_ms

    for entry in doc.get("data", doc).get("ELECTRIC", []):
        for s in entry.get("series", []):
            s["data"] = [p for p in s.get("data", []) if inside(p["x"])]
    return doc


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "FakeSmartHub/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def record(self, body):
        keep = {k: self.headers.get(k) for k in
                ("Authorization", "X-NISC-SMARTHUB-USERNAME", "X-XSRF-TOKEN", "Content-Type", "Cookie")
                if self.headers.get(k) is not None}
        with open(ARGS.log, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path, "headers": keep,
                                "body": body}) + "\n")

    def send(self, status, body, ctype="application/json", headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def json(self, status, obj):
        self.send(status, json.dumps(obj))

    def html(self):
        self.send(200, "<!DOCTYPE html><html><body><h1>Scheduled maintenance</h1></body></html>",
                  "text/html; charset=utf-8")

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n).decode("utf-8", "replace")

    def authorized(self):
        a = self.headers.get("Authorization", "")
        if not a.startswith("Bearer tok-") or self.headers.get("X-NISC-SMARTHUB-USERNAME") != ARGS.user:
            return False
        n = int(a.split("-")[1])
        return n >= 1 and not (ARGS.expire_first_token and n == 1)

    def do_GET(self):
        self.record(None)
        path = urllib.parse.urlsplit(self.path).path
        if path == "/ui/":
            return self.send(200, "<html>SmartHub</html>", "text/html",
                             [("Set-Cookie", "XSRF-TOKEN=xsrf-abc123; Path=/; Secure")])
        if not path.startswith("/services/secured/"):
            return self.send(404, "not found", "text/plain")
        if not self.authorized():
            return self.json(401, {"error": "unauthorized"})
        locs = ARGS.locations.split(",")
        if path == "/services/secured/accounts":
            if ARGS.no_accounts:
                return self.send(404, "not found", "text/plain")
            return self.json(200, [{"account": 1000001, "serviceLocations": ["900001"]},
                                   {"account": int(ARGS.account), "serviceLocations": locs}])
        if path == "/services/secured/user-data":
            return self.json(200, [{"account": ARGS.account, "customerName": "A MEMBER",
                                    "primaryServiceLocationId": locs[0],
                                    "serviceLocationToIndustries": {l: ["ELECTRIC"] for l in locs}}])
        return self.send(404, "not found", "text/plain")

    def do_POST(self):
        raw = self.body()
        path = urllib.parse.urlsplit(self.path).path
        if path == "/services/oauth/auth/v2":
            form = urllib.parse.parse_qs(raw, keep_blank_values=True)
            self.record({k: v[0] for k, v in form.items()})
            return self.login(form)
        self.record(raw)
        if not path.startswith("/services/secured/"):
            return self.send(404, "not found", "text/plain")
        if not self.authorized():
            return self.json(401, {"error": "unauthorized"})
        if path == "/services/secured/utility-usage/poll":
            return self.poll(json.loads(raw))
        return self.send(405, "method not allowed", "text/plain")

    def login(self, form):
        if ARGS.html == "login":
            return self.html()
        if ARGS.xsrf and (not self.headers.get("X-XSRF-TOKEN") or
                          self.headers.get("X-XSRF-TOKEN") != "xsrf-abc123"):
            return self.json(403, {"error": "CSRF token missing"})
        user = form.get("userId", [""])[0]
        password = form.get("password", [""])[0]
        if user != ARGS.user or password != ARGS.password:
            if ARGS.bad_login_status == 200:
                return self.json(200, {"status": "FAILED", "errorMessage": "Invalid user name or password"})
            return self.json(ARGS.bad_login_status, {"error": "Bad credentials"})
        if ARGS.mfa and form.get("twoFactorCode", [""])[0] != "123456":
            return self.send(500, "Your data could not be verified.", "text/plain")
        STATE["logins"] += 1
        self.json(200, {"status": "SUCCESS", "authorizationToken": TOKEN % STATE["logins"],
                        "username": user, "primaryUsername": user, "expiration": 1709660527,
                        "expiresIn": 299, "isBusinessUser": False, "isSecondaryRegistration": False})

    def poll(self, req):
        if ARGS.hang:
            time.sleep(ARGS.hang)
        if ARGS.html == "poll":
            return self.html()
        key = json.dumps(req, sort_keys=True)
        n = STATE["polls"][key] = STATE["polls"].get(key, 0) + 1
        if n <= ARGS.pending:
            return self.json(200, {"status": "PENDING"})
        if ARGS.poll_status != "COMPLETE":
            return self.json(200, {"status": ARGS.poll_status})
        with open(ARGS.data) as f:
            doc = json.load(f)
        if ARGS.slice_tz:
            doc = slice_answer(doc, req["startDateTime"], req["endDateTime"], ARGS.slice_tz)
        if ARGS.bare:
            doc = doc.get("data", doc)
        self.json(200, doc)


def main():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    if ARGS.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ARGS.cert, ARGS.key)
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    print(httpd.server_address[1], flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
