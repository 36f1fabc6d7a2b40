#!/usr/bin/python3
"""third_party.py -- a Green Button third party that is not espigate.

Debian's python3-requests-oauthlib plays the application: authorization code
with PKCE (S256) and state, the member's consent given through the real
consent page (login form, Approve), token exchange with HTTP Basic client
authentication, the ESPI fields of the token response, the Subscription feed,
a refresh, a revocation and the 401 that must follow it.  Prints "ok - ..." /
"not ok - ..." lines and "N passed, N failed"; exit 1 on any failure.

    third_party.py --base https://127.0.0.1:PORT/DataCustodian --ca ca.pem \
        --client-id ID --client-secret S --redirect-uri URI --scope SCOPE \
        --login L --password P
"""
import argparse
import base64
import hashlib
import html.parser
import secrets
import sys
import urllib.parse
import xml.etree.ElementTree as ET

import requests
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

ATOM = "{http://www.w3.org/2005/Atom}"
ESPI = "{http://naesb.org/espi}"
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok - {name}")
    else:
        failed += 1
        print(f"not ok - {name}")
        if detail:
            print("  " + str(detail)[:600])
    return cond


class FormParser(html.parser.HTMLParser):
    """The consent page's first form: action, inputs (name -> value) and
    the names of the fields with id login/password and button approve/deny."""

    def __init__(self):
        super().__init__()
        self.action = None
        self.fields = {}
        self.ids = {}
        self.in_form = False
        self.done = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and not self.done:
            self.in_form = True
            self.action = a.get("action", "")
        elif self.in_form and tag in ("input", "button"):
            name = a.get("name")
            if a.get("id"):
                self.ids[a["id"]] = (name, a.get("value", ""))
            if name and tag == "input" and a.get("type", "text") in ("hidden",):
                self.fields[name] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form" and self.in_form:
            self.in_form = False
            self.done = True


def consent(sess, url, login, password, approve=True):
    """Act as the member: load the page, log in, approve; return the response
    to the POST (a redirect to the application, not followed)."""
    page = sess.get(url)
    check("consent page loads (200, text/html)",
          page.status_code == 200 and page.headers.get("Content-Type", "").startswith("text/html"),
          f"{page.status_code} {page.headers.get('Content-Type')}")
    p = FormParser()
    p.feed(page.text)
    if not check("consent page has a login form with Approve and Deny",
                 p.action is not None and {"login", "password", "approve", "deny"} <= set(p.ids),
                 f"ids={sorted(p.ids)}"):
        return None
    data = dict(p.fields)
    data[p.ids["login"][0]] = login
    data[p.ids["password"][0]] = password
    name, value = p.ids["approve" if approve else "deny"]
    if name:
        data[name] = value
    action = urllib.parse.urljoin(page.url, p.action)
    return sess.post(action, data=data, allow_redirects=False), page.text


def main():
    ap = argparse.ArgumentParser()
    for opt in ("base", "ca", "client-id", "client-secret", "redirect-uri", "scope", "login",
                "password"):
        ap.add_argument("--" + opt, required=True)
    ap.add_argument("--print-token", action="store_true",
                    help="only get a grant (consent + code + PKCE) and print the token JSON")
    o = ap.parse_args()
    if o.print_token:
        return print_token(o)
    token_url = o.base + "/oauth/token"
    revoke_url = o.base + "/oauth/revoke"
    basic = HTTPBasicAuth(o.client_id, o.client_secret)

    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    app = OAuth2Session(o.client_id, redirect_uri=o.redirect_uri, scope=[o.scope])
    app.trust_env = False
    url, state = app.authorization_url(o.base + "/oauth/authorize",
                                       code_challenge=challenge.decode(),
                                       code_challenge_method="S256")
    member = requests.Session()
    member.trust_env = False     # REQUESTS_CA_BUNDLE would override verify
    member.verify = o.ca
    got = consent(member, url, o.login, o.password)
    if got is None:
        return finish()
    resp, page = got
    check("consent page names Function Block 1 and the app", "Usage" in page, page[:300])
    loc = resp.headers.get("Location", "")
    check("approve redirects to the registered redirect URI",
          resp.status_code in (302, 303) and loc.startswith(o.redirect_uri), f"{resp.status_code} {loc}")
    q = urllib.parse.parse_qs(urllib.parse.urlparse(loc).query)
    check("redirect carries a code and our state", "code" in q and q.get("state") == [state], loc)

    token = app.fetch_token(token_url, authorization_response=loc, auth=basic,
                            code_verifier=verifier, verify=o.ca)
    check("token response: Bearer access and refresh tokens",
          token.get("token_type", "").lower() == "bearer" and token.get("access_token")
          and token.get("refresh_token"), token)
    check("token response: resourceURI and authorizationURI (ESPI)",
          "/Batch/Subscription/" in token.get("resourceURI", "")
          and "/Authorization/" in token.get("authorizationURI", ""), token)
    check("token response echoes the scope", o.scope in str(token.get("scope")), token.get("scope"))

    again = requests.post(token_url, auth=basic, verify=o.ca, data={
        "grant_type": "authorization_code", "code": q["code"][0], "redirect_uri": o.redirect_uri,
        "code_verifier": verifier})
    check("a code used twice is invalid_grant",
          again.status_code == 400 and again.json().get("error") == "invalid_grant", again.text)
    # RFC 6749 10.5: the reuse revokes what the code gave; start again.
    app, token = grant(o)

    feed = app.get(token["resourceURI"], verify=o.ca)
    check("GET resourceURI: 200 application/atom+xml",
          feed.status_code == 200 and feed.headers.get("Content-Type", "").startswith(
              "application/atom+xml"), f"{feed.status_code} {feed.headers}")
    try:
        root = ET.fromstring(feed.content)
        entries = root.findall(ATOM + "entry")
        kinds = {child.tag for e in entries for c in e.findall(ATOM + "content") for child in c}
    except ET.ParseError as e:
        entries, kinds = [], {str(e)}
    check("Subscription feed holds UsagePoint, MeterReading, ReadingType and IntervalBlock",
          {ESPI + "UsagePoint", ESPI + "MeterReading", ESPI + "ReadingType",
           ESPI + "IntervalBlock"} <= kinds, kinds)

    wrong = requests.post(token_url, auth=HTTPBasicAuth(o.client_id, "wrong" + o.client_secret),
                          verify=o.ca, data={"grant_type": "refresh_token",
                                             "refresh_token": token["refresh_token"]})
    check("wrong client secret: 401 invalid_client with WWW-Authenticate",
          wrong.status_code == 401 and wrong.json().get("error") == "invalid_client"
          and "WWW-Authenticate" in wrong.headers, wrong.text)

    old = dict(token)
    token = app.refresh_token(token_url, refresh_token=old["refresh_token"], auth=basic,
                              verify=o.ca)
    check("refresh gives a new access token", token.get("access_token") not in (None, old["access_token"]),
          token)
    feed = app.get(old["resourceURI"], verify=o.ca)
    check("the refreshed token reads the Subscription", feed.status_code == 200, feed.status_code)

    rv = requests.post(revoke_url, auth=basic, verify=o.ca,
                       data={"token": token["refresh_token"], "token_type_hint": "refresh_token"})
    check("revocation answers 200", rv.status_code == 200, f"{rv.status_code} {rv.text}")
    feed = app.get(old["resourceURI"], verify=o.ca)
    check("a revoked grant's access token gets 401 with WWW-Authenticate: Bearer",
          feed.status_code == 401 and "Bearer" in feed.headers.get("WWW-Authenticate", ""),
          f"{feed.status_code} {feed.headers}")
    return finish()


def grant(o):
    """Consent as the member and trade the code: the session and the token response."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    app = OAuth2Session(o.client_id, redirect_uri=o.redirect_uri, scope=[o.scope])
    app.trust_env = False
    url, _ = app.authorization_url(o.base + "/oauth/authorize", code_challenge=challenge.decode(),
                                   code_challenge_method="S256")
    member = requests.Session()
    member.trust_env = False
    member.verify = o.ca
    resp, _ = consent(member, url, o.login, o.password)
    token = app.fetch_token(o.base + "/oauth/token", authorization_response=resp.headers["Location"],
                            auth=HTTPBasicAuth(o.client_id, o.client_secret),
                            code_verifier=verifier, verify=o.ca)
    return app, token


def print_token(o):
    global passed
    import json
    sys.stdout = sys.stderr      # consent()'s check lines go to stderr
    _, token = grant(o)
    sys.stdout = sys.__stdout__
    print(json.dumps(dict(token)))
    return 0 if failed == 0 else 1


def finish():
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
