#!/usr/bin/env python3
"""notify_receiver.py -- a third party's notification endpoint for test_notify.c.

    notify_receiver.py DIR CERT KEY     HTTPS on 127.0.0.1, an ephemeral port
    notify_receiver.py DIR --plain      plain HTTP (for the allow_http test)

Writes the port to DIR/port once listening.  Every POST is answered with the
status in DIR/status (default 200); the request is saved as
DIR/req-<n>-<status>.xml (body) with its path and Content-Type in
DIR/req-<n>-<status>.meta.  Only 127.0.0.1, only until killed or its parent exits."""
import http.server
import os
import ssl
import sys
import threading

DIR = sys.argv[1]
LOCK = threading.Lock()
COUNTER = [0]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(n, 1 << 20))
        try:
            with open(os.path.join(DIR, "status")) as f:
                status = int(f.read().strip() or 200)
        except (OSError, ValueError):
            status = 200
        with LOCK:
            COUNTER[0] += 1
            name = "req-%d-%d" % (COUNTER[0], status)
        with open(os.path.join(DIR, name + ".meta"), "w") as f:
            f.write("%s\n%s\n%s\n" % (self.path, self.headers.get("Content-Type", ""),
                                      self.headers.get("User-Agent", "")))
        with open(os.path.join(DIR, name + ".xml"), "wb") as f:
            f.write(body)
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def die_with_parent():
    """Leave when the test that started us is gone (even if it crashed)."""
    parent = os.getppid()
    while os.getppid() == parent:
        threading.Event().wait(0.5)
    os._exit(0)


threading.Thread(target=die_with_parent, daemon=True).start()
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
if sys.argv[2] != "--plain":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[2], sys.argv[3])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
tmp = os.path.join(DIR, "port.tmp")
with open(tmp, "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(tmp, os.path.join(DIR, "port"))
srv.serve_forever()
