#!/usr/bin/env python3
"""fake_dc.py -- a fake Green Button Data Custodian over HTTPS, for `espigate audit` tests.

Serves a sample feed (samples/espi/demo.xml split into entries) at the URIs the real
server exposes (docs: ../shared/espi/NOTES.md sections 3-4):

  POST {base}/oauth/token                      client_credentials (HTTP Basic) -> client token
  GET  {base}/espi/1_1/resource/ApplicationInformation/{client_id}     client token
  GET  .../Authorization[/{id}]                 client token (two subscriptions: A and B)
  GET  .../ReadServiceStatus                    any valid token
  GET  .../Batch/Bulk/{client_id}               client token
  GET  .../Batch/Subscription/{sid}             customer token of sid
  GET  .../Subscription/{sid}/UsagePoint[/...]  customer token of sid, with query parameters
  GET  .../LocalTimeParameters[/{id}], .../ReadingType[/{id}]   customer token

The customer token of subscription A is fixed ("customer-token-A"); the client is
"audit-app" / "s3cret".  --fault MODE breaks one thing (see FAULTS).  The port is
ephemeral and written to --port-file once the server listens.
"""
import argparse
import base64
import json
import os
import random
import re
import socket
import ssl
import struct
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

FAULTS = {
    "none": "a conforming server",
    "content-type": "resources served as application/xml",
    "missing-link": "UsagePoints link a UsageSummary collection that answers 404",
    "leak": "the customer token reads another subscription",
    "bad-token": "missing token 400, malformed token 401 without WWW-Authenticate, random token 200",
    "old-tls": "TLS 1.0 and 1.1 accepted",
    "hang": "Batch/Subscription never answers",
    "reset": "Batch/Subscription resets the connection",
    "garbage": "Batch/Subscription answers random bytes",
    "huge": "Batch/Subscription answers a 2 GB body (generated on the fly)",
    "hang-all": "every connection hangs before TLS",
}

CLIENT_ID, CLIENT_SECRET = "audit-app", "s3cret"
CUSTOMER_TOKEN = "customer-token-A"
SID_B = "0b7b2b66-2f5e-5c8e-9d52-6f1d3a0c0b0b"
ATOM = "http://www.w3.org/2005/Atom"
ENTRY_RE = re.compile(r"<entry>.*?</entry>", re.S)
B64TOKEN = re.compile(r"^[A-Za-z0-9\-._~+/]+=*$")


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def parse_iso(s):
    return int(time.mktime(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone)


class Entry:
    def __init__(self, text):
        self.text = text
        self.self = re.search(r'<link rel="self" href="([^"]+)"', text).group(1)
        self.up = re.search(r'<link rel="up" href="([^"]+)"', text).group(1)
        self.published = parse_iso(re.search(r"<published>([^<]+)<", text).group(1))
        self.updated = parse_iso(re.search(r"<updated>([^<]+)<", text).group(1))


class Data:
    """The sample split into entries, for subscription A and a copy B."""

    def __init__(self, sample, base):
        xml = open(sample, encoding="utf-8").read()
        self.base = base
        self.res = base + "/espi/1_1/resource"
        self.sid_a = re.search(r"Batch/Subscription/([0-9a-f-]+)", xml).group(1)
        xml = xml.replace("https://localhost:8443/DataCustodian", base)
        # distinct dates per IntervalBlock so the query filters have something to split
        texts, k = [], 0
        for t in ENTRY_RE.findall(xml):
            if "<IntervalBlock" in t:
                stamp = iso(parse_iso("2024-03-10T05:00:00Z") + 86400 * k)
                t = re.sub(r"<published>[^<]+<", "<published>%s<" % stamp, t)
                t = re.sub(r"<updated>[^<]+<", "<updated>%s<" % stamp, t)
                k += 1
            texts.append(t)
        self.head = xml[: xml.index("<entry>")]
        self.subs = {}
        for sid in (self.sid_a, SID_B):
            entries = [Entry(t.replace(self.sid_a, sid)) for t in texts]
            self.subs[sid] = entries

    def path(self, href):
        return urlsplit(href).path

    def find(self, sid, path):
        """(entry, None) for an entry, (None, [entries]) for a collection, or (None, None)."""
        ents = self.subs[sid]
        for e in ents:
            if self.path(e.self) == path:
                return e, None
        coll = [e for e in ents if self.path(e.up) == path]
        return (None, coll) if coll else (None, None)


def feed_xml(url, entries):
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="%s">\n' % ATOM,
           "  <id>urn:uuid:%s</id>\n" % uuid.uuid5(uuid.NAMESPACE_URL, url),
           "  <title>fake Data Custodian</title>\n  <updated>2024-03-12T05:00:00Z</updated>\n",
           '  <link rel="self" href="%s"/>\n' % url.replace("&", "&amp;")]
    out += ["  " + e.text + "\n" for e in entries]
    out.append("</feed>\n")
    return "".join(out).encode()


def entry_xml(e):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' +
            e.text.replace("<entry>", '<entry xmlns="%s">' % ATOM, 1) + "\n").encode()


def app_info_xml(res):
    u = res + "/ApplicationInformation"
    return ('''<?xml version="1.0" encoding="UTF-8"?>
<entry xmlns="%s" xmlns:espi="http://naesb.org/espi">
  <id>urn:uuid:%s</id>
  <title>audit app</title>
  <published>2024-03-12T05:00:00Z</published>
  <updated>2024-03-12T05:00:00Z</updated>
  <link rel="self" href="%s/%s"/>
  <link rel="up" href="%s"/>
  <content><espi:ApplicationInformation>
    <espi:dataCustodianId>fake</espi:dataCustodianId>
    <espi:dataCustodianApplicationStatus>2</espi:dataCustodianApplicationStatus>
    <espi:thirdPartyApplicationDescription>audit app</espi:thirdPartyApplicationDescription>
    <espi:thirdPartyApplicationStatus>2</espi:thirdPartyApplicationStatus>
    <espi:thirdPartyApplicationType>1</espi:thirdPartyApplicationType>
    <espi:thirdPartyApplicationUse>1</espi:thirdPartyApplicationUse>
    <espi:authorizationServerUri>https://127.0.0.1/DataCustodian</espi:authorizationServerUri>
    <espi:thirdPartyNotifyUri>https://127.0.0.1/notify</espi:thirdPartyNotifyUri>
    <espi:authorizationServerAuthorizationEndpoint>https://127.0.0.1/DataCustodian/oauth/authorize</espi:authorizationServerAuthorizationEndpoint>
    <espi:authorizationServerRegistrationEndpoint>https://127.0.0.1/DataCustodian/oauth/authorize</espi:authorizationServerRegistrationEndpoint>
    <espi:authorizationServerTokenEndpoint>https://127.0.0.1/DataCustodian/oauth/token</espi:authorizationServerTokenEndpoint>
    <espi:dataCustodianBulkRequestURI>https://127.0.0.1/DataCustodian/espi/1_1/resource</espi:dataCustodianBulkRequestURI>
    <espi:dataCustodianResourceEndpoint>https://127.0.0.1/DataCustodian/espi/1_1/resource</espi:dataCustodianResourceEndpoint>
    <espi:thirdPartyScopeSelectionScreenURI>https://127.0.0.1/scope</espi:thirdPartyScopeSelectionScreenURI>
    <espi:thirdPartyUserPortalScreenURI>https://127.0.0.1/portal</espi:thirdPartyUserPortalScreenURI>
    <espi:client_secret>hidden</espi:client_secret>
    <espi:logo_uri>https://127.0.0.1/logo.png</espi:logo_uri>
    <espi:client_name>audit app</espi:client_name>
    <espi:client_uri>https://127.0.0.1</espi:client_uri>
    <espi:redirect_uri>https://127.0.0.1/callback</espi:redirect_uri>
    <espi:client_id>%s</espi:client_id>
    <espi:software_id>v0001</espi:software_id>
    <espi:software_version>1.00.00</espi:software_version>
    <espi:client_id_issued_at>1600000000</espi:client_id_issued_at>
    <espi:client_secret_expires_at>0</espi:client_secret_expires_at>
    <espi:token_endpoint_auth_method>client_secret_basic</espi:token_endpoint_auth_method>
    <espi:scope>FB=1_3_4_5_13_15_16_31_35_37</espi:scope>
    <espi:grant_types>client_credentials</espi:grant_types>
    <espi:grant_types>authorization_code</espi:grant_types>
    <espi:response_types>code</espi:response_types>
    <espi:registration_client_uri>https://127.0.0.1/DataCustodian/espi/1_1/resource/ApplicationInformation/%s</espi:registration_client_uri>
    <espi:registration_access_token>hidden</espi:registration_access_token>
    <espi:dataCustodianScopeSelectionScreenURI>https://127.0.0.1/scopes</espi:dataCustodianScopeSelectionScreenURI>
  </espi:ApplicationInformation></content>
</entry>
''' % (ATOM, uuid.uuid5(uuid.NAMESPACE_URL, u + "/" + CLIENT_ID), u, CLIENT_ID, u,
       CLIENT_ID, CLIENT_ID)).encode()


def auth_entry(res, sid):
    aid = str(uuid.uuid5(uuid.NAMESPACE_URL, "auth/" + sid))
    return Entry('''<entry>
    <id>urn:uuid:%s</id>
    <title>Authorization</title>
    <published>2024-03-12T05:00:00Z</published>
    <updated>2024-03-12T05:00:00Z</updated>
    <link rel="self" href="%s/Authorization/%s"/>
    <link rel="up" href="%s/Authorization"/>
    <content><Authorization xmlns="http://naesb.org/espi">
      <authorizedPeriod><duration>31536000</duration><start>1710219600</start></authorizedPeriod>
      <publishedPeriod><duration>31536000</duration><start>1710219600</start></publishedPeriod>
      <status>1</status>
      <expires_at>1741755600</expires_at>
      <grant_type>authorization_code</grant_type>
      <scope>FB=1_3_4_5_13_15_16_31_37;IntervalDuration=900;BlockDuration=daily;HistoryLength=13</scope>
      <token_type>Bearer</token_type>
      <resourceURI>%s/Batch/Subscription/%s</resourceURI>
      <authorizationURI>%s/Authorization/%s</authorizationURI>
    </Authorization></content>
  </entry>''' % (aid, res, aid, res, res, sid, res, aid))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-dc/1"

    def log_message(self, fmt, *args):
        if os.environ.get("FAKE_DC_LOG"):
            sys.stderr.write("fake_dc: " + fmt % args + "\n")

    # ---- responses
    def send(self, status, body=b"", ctype="text/plain", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def atom(self, body):
        ct = "application/xml" if self.server.fault == "content-type" else "application/atom+xml"
        self.send(200, body, ct)

    def json(self, status, obj, headers=()):
        self.send(status, json.dumps(obj).encode(), "application/json",
                  [("Cache-Control", "no-store")] + list(headers))

    # ---- faults on Batch/Subscription
    def batch_fault(self):
        f = self.server.fault
        if f == "hang":
            time.sleep(3600)
            return True
        if f == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return True
        if f == "garbage":
            # invalid UTF-8 first (a surrogate, overlong forms, a code point above
            # U+10FFFF, a stray continuation byte, a control byte), so every run
            # checks that the report quotes them safely; then random bytes
            self.send(200, b"\xed\xa0\x80\xe0\x80\xaf\xf0\x80\x80\xaf\xf5\x80\x80\x80\x80\x01" +
                      bytes(random.getrandbits(8) for _ in range(4080)), "application/atom+xml")
            return True
        if f == "huge":
            size = 2 << 30
            self.send_response(200)
            self.send_header("Content-Type", "application/atom+xml")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            head = b'<?xml version="1.0"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n'
            chunk = b"<!-- " + b"x" * 65500 + b" -->\n"
            try:
                self.wfile.write(head)
                sent = len(head)
                while sent + len(chunk) <= size:
                    self.wfile.write(chunk)
                    sent += len(chunk)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
                pass
            self.close_connection = True
            return True
        return False

    # ---- auth
    def grant(self):
        """('client'|'customer', sid) or None after answering 401/400."""
        h = self.headers.get("Authorization")
        bad = self.server.fault == "bad-token"
        if not h:
            if bad:
                self.send(400, b"no token")
            else:
                self.send(401, b"token required", headers=[("WWW-Authenticate", 'Bearer realm="DataCustodian"')])
            return None
        m = re.match(r"^Bearer (.*)$", h)
        tok = m.group(1) if m else ""
        if not m or not B64TOKEN.match(tok):
            if bad:
                self.send(401, b"malformed")
            else:
                self.send(401, b"malformed", headers=[("WWW-Authenticate", 'Bearer error="invalid_request"')])
            return None
        if tok == self.server.client_token:
            return ("client", None)
        if tok == CUSTOMER_TOKEN:
            return ("customer", self.server.data.sid_a)
        if bad:
            return ("customer", self.server.data.sid_a)
        self.send(401, b"unknown token", headers=[("WWW-Authenticate", 'Bearer error="invalid_token"')])
        return None

    # ---- GET
    def do_GET(self):
        d = self.server.data
        u = urlsplit(self.path)
        path = unquote(u.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        prefix = "/DataCustodian/espi/1_1/resource"
        if not path.startswith(prefix + "/"):
            return self.send(404, b"not found")
        rest = path[len(prefix) + 1:]
        g = self.grant()
        if g is None:
            return
        kind, my_sid = g
        if rest == "ReadServiceStatus":
            return self.atom(b'<?xml version="1.0" encoding="UTF-8"?>\n'
                             b'<ServiceStatus xmlns="http://naesb.org/espi"><currentStatus>1</currentStatus></ServiceStatus>\n')
        if rest == "ApplicationInformation" or rest.startswith("ApplicationInformation/"):
            if kind != "client":
                return self.send(403, b"client token required")
            if rest == "ApplicationInformation":
                body = app_info_xml(d.res).decode()
                body = body[body.index("<entry"):].replace(' xmlns="%s"' % ATOM, "", 1)
                return self.atom(('<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="%s">\n'
                                  '<id>urn:uuid:%s</id><title>apps</title><updated>2024-03-12T05:00:00Z</updated>\n'
                                  '<link rel="self" href="%s/ApplicationInformation"/>\n%s</feed>\n'
                                  % (ATOM, uuid.uuid5(uuid.NAMESPACE_URL, d.res + "/apps"), d.res, body)).encode())
            if rest != "ApplicationInformation/" + CLIENT_ID:
                return self.send(404, b"no such application")
            return self.atom(app_info_xml(d.res))
        if rest == "Authorization" or rest.startswith("Authorization/"):
            if kind != "client":
                return self.send(403, b"client token required")
            auths = [auth_entry(d.res, s) for s in (d.sid_a, SID_B)]
            if rest == "Authorization":
                return self.atom(feed_xml(d.res + "/Authorization", auths))
            for a in auths:
                if d.path(a.self) == path:
                    return self.atom(entry_xml(a))
            return self.send(404, b"no such authorization")
        if rest == "Batch/Bulk/" + CLIENT_ID:
            if kind != "client":
                return self.send(403, b"client token required")
            return self.atom(feed_xml(d.res + "/" + rest, d.subs[d.sid_a]))
        m = re.match(r"^(Batch/)?Subscription/([^/]+)(/.*)?$", rest)
        if m:
            sid = m.group(2)
            if kind != "customer":
                return self.send(403, b"customer token required")
            if sid not in d.subs:
                return self.send(404, b"no such subscription")
            if sid != my_sid and self.server.fault != "leak":
                return self.send(403, b"not your subscription")
            if m.group(1):
                if m.group(3):
                    return self.send(404, b"not found")
                if self.batch_fault():
                    return
                return self.atom(feed_xml(d.res + "/" + rest, d.subs[sid]))
            if self.server.fault == "missing-link" and path.endswith("/UsageSummary"):
                return self.send(404, b"gone")
            return self.serve(sid, path, q)
        if rest.split("/")[0] in ("LocalTimeParameters", "ReadingType"):
            if kind != "customer":
                return self.send(403, b"customer token required")
            return self.serve(my_sid, path, q)
        return self.send(404, b"not found")

    def serve(self, sid, path, q):
        e, coll = self.server.data.find(sid, path)
        if e:
            return self.atom(entry_xml(e))
        if coll is None:
            return self.send(404, b"not found")
        try:
            for key, attr, op in (("published-min", "published", "ge"), ("published-max", "published", "le"),
                                  ("updated-min", "updated", "ge"), ("updated-max", "updated", "le")):
                if key in q:
                    t = parse_iso(q[key])
                    coll = [x for x in coll if (getattr(x, attr) >= t if op == "ge" else getattr(x, attr) <= t)]
            start = int(q.get("start-index", "1"))
            n = int(q.get("max-results", "0"))
        except ValueError:
            return self.send(400, b"bad query parameter")
        coll = coll[start - 1:]
        if n:
            coll = coll[:n]
        url = self.server.data.base.split("/DataCustodian")[0] + self.path
        return self.atom(feed_xml(url, coll))

    # ---- POST (token endpoint)
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        body = self.rfile.read(min(n, 65536)).decode("utf-8", "replace")
        if urlsplit(self.path).path != "/DataCustodian/oauth/token":
            return self.send(404, b"not found")
        form = {k: v[0] for k, v in parse_qs(body).items()}
        cid = secret = None
        h = self.headers.get("Authorization", "")
        if h.startswith("Basic "):
            try:
                cid, _, secret = base64.b64decode(h[6:]).decode().partition(":")
            except ValueError:
                pass
        if cid != CLIENT_ID or secret != CLIENT_SECRET:
            return self.json(401, {"error": "invalid_client"},
                             [("WWW-Authenticate", 'Basic realm="DataCustodian"')])
        grant = form.get("grant_type")
        if grant != "client_credentials":
            if grant in ("authorization_code", "refresh_token"):
                return self.json(400, {"error": "invalid_grant"})
            return self.json(400, {"error": "unsupported_grant_type"})
        res = self.server.data.res
        return self.json(200, {
            "access_token": self.server.client_token, "token_type": "Bearer", "expires_in": 3600,
            "scope": "FB=34_35", "resourceURI": res + "/Batch/Bulk/" + CLIENT_ID,
            "authorizationURI": res + "/Authorization/" + str(uuid.uuid5(uuid.NAMESPACE_URL, "client"))})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--sample", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--fault", default="none", choices=sorted(FAULTS))
    a = ap.parse_args()

    srv = Server(("127.0.0.1", 0), Handler)
    port = srv.server_address[1]
    srv.fault = a.fault
    srv.client_token = base64.b32encode(os.urandom(20)).decode().rstrip("=")
    srv.data = Data(a.sample, "https://127.0.0.1:%d/DataCustodian" % port)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    if a.fault == "old-tls":
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1
    else:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if a.fault == "hang-all":
        srv.socket.listen(64)
        with open(a.port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.rename(a.port_file + ".tmp", a.port_file)
        conns = []
        while True:   # accept and never answer
            c, _ = srv.socket.accept()
            conns.append(c)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(a.port_file + ".tmp", a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
