#!/usr/bin/env bash
# test_serve.sh -- `espigate serve` end to end: real TLS, real SQLite (and a
# real PostgreSQL with two server processes when tests/feeds/pgtmp.sh can
# start one), and a third party that is not ours (Debian's
# python3-requests-oauthlib, tests/feeds/third_party.py).
#
#   - the whole OAuth flow: consent page, code + PKCE, token response with
#     resourceURI/authorizationURI, Subscription feed, refresh, revocation;
#   - a token of one customer never reads another's subscription;
#   - TLS 1.1 refused, 401 + WWW-Authenticate without a token, security
#     headers on the consent page, 413 for a big body;
#   - notifications: an import for a subscribed customer POSTs a BatchList to
#     the app's notify URI (TLS verified with the dev CA); a notification
#     queued while the server is down is delivered after it starts again;
#   - SIGTERM stops the server with exit 0;
#   - PostgreSQL: two `serve` processes on one database, requests (the OAuth
#     flow included) alternating between them.
set -euo pipefail
. "$ESPIGATE_SRC/tests/cli/lib.sh"
PY=/usr/bin/python3
$PY -c 'import requests_oauthlib' 2>/dev/null ||
  { echo "skip: python3-requests-oauthlib is not installed (apt-get install python3-requests-oauthlib)" >&2; exit 77; }
command -v curl >/dev/null || { echo "skip: curl is not installed" >&2; exit 77; }
E=$ESPIGATE
SRC=$ESPIGATE_SRC
export OAUTHLIB_RELAX_TOKEN_SCOPE=1
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap 'cleanup; rm -rf "$TMP"' EXIT

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

bash "$SRC/certs/make-dev-certs.sh" "$TMP/certs" >/dev/null
CA=$TMP/certs/ca.pem CERT=$TMP/certs/server.pem KEY=$TMP/certs/server.key
SCOPE='FB=1_3_4_5_13_14_39;IntervalDuration=900;BlockDuration=daily;HistoryLength=13'

# start_server DB PORT LOGNAME [extra options]: background serve, wait until it listens
start_server() {
  local db=$1 port=$2 name=$3; shift 3
  "$E" serve --db "$db" --listen "127.0.0.1:$port" --base-url "https://localhost:$port" \
    --cert "$CERT" --key "$KEY" --access-log "$TMP/$name.access" --notify-ca "$CA" \
    --notify-interval 1 "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  for _ in $(seq 100); do
    grep -q 'listening on' "$TMP/$name.out" 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "server did not start: $(cat "$TMP/$name.err")" >&2
  return 1
}

# setup DB: customers, their feeds, members, one app; sets CLIENT_ID/SECRET
setup_store() {
  local db=$1 notify=$2
  "$E" customer add --db "$db" alice "Alice" >/dev/null
  "$E" customer add --db "$db" bob "Bob" >/dev/null
  "$E" import --db "$db" -q --customer alice "$SRC/samples/espi/demo.xml"
  "$E" import --db "$db" -q --customer bob "$SRC/samples/smarthub/poll_multi_meter.expected.xml"
  printf 'alice-pw-1' >"$TMP/pw-a"
  printf 'bob-pw-2' >"$TMP/pw-b"
  "$E" member add --db "$db" --customer alice --login alice --password-file "$TMP/pw-a" >/dev/null
  "$E" member add --db "$db" --customer bob --login bob --password-file "$TMP/pw-b" >/dev/null
  local j
  j=$("$E" client add --db "$db" --name "Test App <b>" --redirect-uri https://127.0.0.1:9/cb \
        --notify-uri "$notify" --scope "$SCOPE" --format json)
  CLIENT_ID=$(printf '%s' "$j" | $PY -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')
  SECRET=$(printf '%s' "$j" | $PY -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
}

tp() { # BASE LOGIN PASSWORD [more args]: the third party
  local base=$1 login=$2 pw=$3; shift 3
  $PY "$SRC/tests/feeds/third_party.py" --base "$base/DataCustodian" --ca "$CA" \
    --client-id="$CLIENT_ID" --client-secret="$SECRET" --redirect-uri https://127.0.0.1:9/cb \
    --scope "$SCOPE" --login "$login" --password "$pw" "$@"
}
jget() { $PY -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

# ---- the notification receiver (a third party's endpoint) ----
mkdir -p "$TMP/recv"
$PY "$SRC/tests/feeds/notify_receiver.py" "$TMP/recv" "$CERT" "$KEY" &
PIDS+=("$!")
for _ in $(seq 50); do [ -s "$TMP/recv/port" ] && break; sleep 0.1; done
NOTIFY="https://127.0.0.1:$(cat "$TMP/recv/port")/espi/Notification"

# ======================= SQLite, one process =======================
DB="sqlite:$TMP/store.db"
setup_store "$DB" "$NOTIFY"
PORT=$(free_port)
BASE="https://localhost:$PORT"
start_server "$DB" "$PORT" s1
ok "serve starts on SQLite and says where it listens"
C=(curl -s --cacert "$CA" --max-time 10)

code=$("${C[@]}" -o /dev/null -w '%{http_code}' "$BASE/DataCustodian/espi/1_1/resource/ReadServiceStatus")
hdr=$("${C[@]}" -D - -o /dev/null "$BASE/DataCustodian/espi/1_1/resource/ReadServiceStatus")
[ "$code" = 401 ] && printf '%s' "$hdr" | grep -qi '^WWW-Authenticate: Bearer' &&
  ok "no token: 401 with WWW-Authenticate: Bearer" || not_ok "no token: 401" "$code $hdr"

if "${C[@]}" --tls-max 1.1 -o /dev/null "$BASE/DataCustodian/" 2>/dev/null; then
  not_ok "TLS 1.1 is refused"
else ok "TLS 1.1 is refused"; fi
"${C[@]}" --tlsv1.3 -o /dev/null "$BASE/DataCustodian/" && ok "TLS 1.3 is accepted" || not_ok "TLS 1.3 is accepted"

page=$("${C[@]}" -D "$TMP/page.h" "$BASE/DataCustodian/oauth/authorize?response_type=code&client_id=$CLIENT_ID&redirect_uri=https%3A%2F%2F127.0.0.1%3A9%2Fcb&state=xyz&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256")
grep -qi '^Content-Security-Policy:' "$TMP/page.h" && grep -qi '^X-Frame-Options: DENY' "$TMP/page.h" &&
  ok "consent page: CSP and X-Frame-Options" || not_ok "consent page headers" "$(cat "$TMP/page.h")"
expect_match "consent page escapes the app's name" "$page" 'Test App &lt;b&gt;'
expect_no_match "consent page has no raw markup from the app" "$page" 'Test App <b>'

code=$("${C[@]}" -o /dev/null -w '%{http_code}' -X POST --data-binary @<(head -c 200000 /dev/zero | tr '\0' a) \
        -H 'Content-Type: application/x-www-form-urlencoded' "$BASE/DataCustodian/oauth/token" || true)
# 413, or the connection closed while curl was still sending (000)
case $code in 413|000) ok "a 200 kB body is refused ($code)" ;; *) not_ok "big body refused" "$code" ;; esac

# the whole flow with a real third-party library
if tp "$BASE" alice alice-pw-1 >"$TMP/tp.out" 2>&1; then
  ok "requests-oauthlib third party: $(tail -1 "$TMP/tp.out")"
else
  not_ok "requests-oauthlib third party" "$(grep -v '^ok' "$TMP/tp.out" | head -20)"
fi

# cross-subscription: bob's token on alice's subscription
TA=$(tp "$BASE" alice alice-pw-1 --print-token 2>/dev/null)
TB=$(tp "$BASE" bob bob-pw-2 --print-token 2>/dev/null)
RA=$(printf '%s' "$TA" | jget resourceURI) AA=$(printf '%s' "$TA" | jget access_token)
RB=$(printf '%s' "$TB" | jget resourceURI) AB=$(printf '%s' "$TB" | jget access_token)
code=$("${C[@]}" -o "$TMP/a.xml" -w '%{http_code}' -H "Authorization: Bearer $AA" "$RA")
[ "$code" = 200 ] && ok "alice's token reads alice's subscription" || not_ok "alice reads alice" "$code"
"$E" validate --quiet "$TMP/a.xml" >/dev/null && ok "served Batch/Subscription validates" ||
  not_ok "served Batch/Subscription validates" "$("$E" validate "$TMP/a.xml" | head -5)"
code=$("${C[@]}" -o "$TMP/x.xml" -w '%{http_code}' -H "Authorization: Bearer $AB" "$RA")
if [ "$code" = 404 ] || [ "$code" = 403 ]; then
  if grep -q 'urn:uuid' "$TMP/x.xml"; then not_ok "bob's token on alice's subscription leaks data"
  else ok "bob's token on alice's subscription: $code, nothing revealed"; fi
else not_ok "bob's token on alice's subscription" "$code"; fi
# every link alice's feed gives resolves with alice's token, and none with bob's
links=$(grep -o 'href="[^"]*"' "$TMP/a.xml" | sed 's/href="//;s/"$//' | grep '/espi/1_1/resource/' | sort -u)
bad=0 leak=0 n=0
for l in $links; do
  n=$((n + 1))
  c=$("${C[@]}" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $AA" "$l" || true)
  [ "$c" = 200 ] || { bad=$((bad + 1)); echo "  $c $l"; }
  # a collection (…/LocalTimeParameters) answers every token with its own
  # entries; an entry URI must answer only its owner
  case ${l##*/} in *-*-*-*-*) ;; *) continue ;; esac
  c=$("${C[@]}" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $AB" "$l" || true)
  if [ "$c" = 200 ]; then leak=$((leak + 1)); echo "  leak $l"; fi
done
[ "$n" -gt 5 ] && [ "$bad" = 0 ] && ok "all $n links of the subscription feed resolve with its token" ||
  not_ok "links resolve" "$bad of $n failed"
[ "$leak" = 0 ] && ok "none of them answers another subscription's token" || not_ok "cross-subscription leak" "$leak"

# our own server passes the full conformance audit (espigate audit, issue 7)
run "$E" audit --base-url "$BASE/DataCustodian" --client-id "$CLIENT_ID" --client-secret "$SECRET" \
  --token "$AA" --ca-file "$CA" --format json -o "$TMP/audit.json"
if [ "$RC" -eq 0 ]; then
  ok "espigate audit of our own server: every rule passes"
else
  not_ok "espigate audit of our own server (exit $RC)" "$($PY -c 'import json,sys
d=json.load(open(sys.argv[1]))
for r in d.get("rules", []):
    if r.get("status") != "pass": print(r.get("id"), r.get("status"), str(r.get("evidence"))[:300])' "$TMP/audit.json" 2>&1 | head -20)"
fi
skipped=$($PY -c 'import json,sys; print(sum(1 for r in json.load(open(sys.argv[1]))["rules"] if r["status"]=="skipped"))' "$TMP/audit.json" 2>/dev/null || echo "?")
[ "$skipped" = 0 ] && ok "no audit rule skipped" || not_ok "audit rules skipped: $skipped"

# the auditor gets its own customer token through the consent page (--redirect-uri)
if $PY "$SRC/tests/feeds/audit_interactive.py" bob bob-pw-2 "$CA" -- "$E" audit \
     --base-url "$BASE/DataCustodian" --client-id "$CLIENT_ID" --client-secret "$SECRET" \
     --redirect-uri https://127.0.0.1:9/cb --scope "$SCOPE" --ca-file "$CA" --format json \
     -o "$TMP/audit2.json" 2>"$TMP/audit2.err"; then
  ok "espigate audit --redirect-uri: a member approves, the audit passes"
else
  not_ok "espigate audit --redirect-uri" "$(tail -5 "$TMP/audit2.err")"
fi

# notifications: new data for alice -> a BatchList to the app
"$E" synth --usage-points 1 --days 2 -o "$TMP/new.xml"
run "$E" import --db "$DB" --customer alice "$TMP/new.xml"
expect_match "import queues a notification for alice's subscription" "$OUT" 'notification.* queued'
for _ in $(seq 100); do ls "$TMP/recv"/req-*.xml >/dev/null 2>&1 && break; sleep 0.1; done
got=$(cat "$TMP/recv"/req-*.xml 2>/dev/null || true)
sid=${RA##*/}
expect_match "the receiver got a BatchList naming alice's Batch/Subscription" "$got" "BatchList.*Batch/Subscription/$sid|Batch/Subscription/$sid"
expect_no_match "bob's subscription is not announced" "$got" "${RB##*/}"

# SIGTERM: a clean stop
kill -TERM "$SERVER_PID"
if wait "$SERVER_PID"; then ok "SIGTERM stops the server with exit 0"; else not_ok "SIGTERM stop" "exit $?"; fi

# durable: queued while down, delivered after the restart
rm -f "$TMP/recv"/req-*
"$E" synth --usage-points 1 --days 3 -o "$TMP/new2.xml"
"$E" import --db "$DB" -q --customer alice "$TMP/new2.xml"
run "$E" notify list --db "$DB"
expect_match "the notification waits in the queue while the server is down" "$OUT" 'pending'
start_server "$DB" "$PORT" s1b
for _ in $(seq 100); do ls "$TMP/recv"/req-*.xml >/dev/null 2>&1 && break; sleep 0.1; done
ls "$TMP/recv"/req-*.xml >/dev/null 2>&1 && ok "delivered after the restart" || not_ok "delivered after the restart"
kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || true
lines=$(wc -l <"$TMP/s1.access")
grep -q '"path":"/DataCustodian/oauth/token"' "$TMP/s1.access" && ! grep -q "$AA" "$TMP/s1.access" &&
  ok "access log: $lines JSON lines, no tokens" || not_ok "access log" "$(head -3 "$TMP/s1.access")"

# --workers: pre-forked processes on one listening socket
WP=$(free_port)
start_server "$DB" "$WP" sw --workers 2
codes=$(for _ in 1 2 3 4 5 6; do "${C[@]}" -o /dev/null -w '%{http_code} ' "https://localhost:$WP/DataCustodian/"; done)
[ "$codes" = "200 200 200 200 200 200 " ] && ok "--workers 2 answers" || not_ok "--workers 2 answers" "$codes"
[ "$(pgrep -P "$SERVER_PID" | wc -l)" = 2 ] && ok "--workers 2 runs two worker processes" ||
  not_ok "--workers 2 runs two worker processes" "$(pgrep -P "$SERVER_PID" | wc -l)"
kill -TERM "$SERVER_PID"
if wait "$SERVER_PID"; then ok "SIGTERM stops every worker, exit 0"; else not_ok "--workers SIGTERM" "exit $?"; fi

# ======================= PostgreSQL, two processes =======================
PGDIR=$(mktemp -u /tmp/espigate-pg.XXXXXX)   # outside $TMP: the postgres user must reach it
if bash "$SRC/tests/feeds/pgtmp.sh" start "$PGDIR" >/dev/null 2>"$TMP/pg.err"; then
  PGDB=$(bash "$SRC/tests/feeds/pgtmp.sh" db "$PGDIR" serve 2>>"$TMP/pg.err")
  setup_store "$PGDB" "$NOTIFY"
  P1=$(free_port) P2=$(free_port)
  start_server "$PGDB" "$P1" pg1 --base-url "https://localhost:$P1"
  start_server "$PGDB" "$P2" pg2 --base-url "https://localhost:$P1"
  ok "two serve processes on one PostgreSQL"
  # the consent page from one, the POST and token from the other: a tiny load balancer
  $PY - "$P1" "$P2" "$CA" "$CLIENT_ID" "$SECRET" "$SCOPE" >"$TMP/lb.out" 2>&1 <<'PYEOF' && ok "OAuth flow and reads alternating between the two processes" || not_ok "alternating processes" "$(cat "$TMP/lb.out")"
import base64, hashlib, re, secrets, sys, urllib.parse, requests
p1, p2, ca, cid, sec, scope = sys.argv[1:]
ports = [p1, p2]
n = [0]
def url(path):
    n[0] += 1
    return f"https://localhost:{ports[n[0] % 2]}/DataCustodian{path}"
s = requests.Session(); s.trust_env = False; s.verify = ca
ver = secrets.token_urlsafe(48)
ch = base64.urlsafe_b64encode(hashlib.sha256(ver.encode()).digest()).rstrip(b"=").decode()
q = urllib.parse.urlencode({"response_type": "code", "client_id": cid, "redirect_uri": "https://127.0.0.1:9/cb",
                            "scope": scope, "state": "s1", "code_challenge": ch, "code_challenge_method": "S256"})
page = s.get(url("/oauth/authorize?" + q)).text
form = dict(re.findall(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))
import html
form = {k: html.unescape(v) for k, v in form.items()}
names = dict(re.findall(r'id="(login|password)"[^>]*name="([^"]+)"|name="([^"]+)"[^>]*id="(login|password)"', page) and [])
def field(idv):
    m = re.search(r'<input[^>]*id="%s"[^>]*>' % idv, page)
    return re.search(r'name="([^"]+)"', m.group(0)).group(1)
def button(idv):
    m = re.search(r'<button[^>]*id="%s"[^>]*>' % idv, page)
    nm = re.search(r'name="([^"]+)"', m.group(0)); vl = re.search(r'value="([^"]*)"', m.group(0))
    return (nm.group(1), vl.group(1) if vl else "")
form[field("login")] = "alice"; form[field("password")] = "alice-pw-1"
b = button("approve"); form[b[0]] = b[1]
action = re.search(r'<form[^>]*action="([^"]+)"', page).group(1)
r = s.post(url(action.replace("/DataCustodian", "", 1)) if action.startswith("/DataCustodian") else url("/oauth/authorize"), data=form, allow_redirects=False)
assert r.status_code in (302, 303), (r.status_code, r.text[:300])
code = urllib.parse.parse_qs(urllib.parse.urlparse(r.headers["Location"]).query)["code"][0]
t = s.post(url("/oauth/token"), auth=(cid, sec), data={"grant_type": "authorization_code", "code": code,
           "redirect_uri": "https://127.0.0.1:9/cb", "code_verifier": ver}).json()
assert "access_token" in t, t
for i in range(4):
    r = s.get(url("/espi/1_1/resource/" + t["resourceURI"].split("/espi/1_1/resource/")[1]),
              headers={"Authorization": "Bearer " + t["access_token"]})
    assert r.status_code == 200 and b"<feed" in r.content, (i, r.status_code)
t2 = s.post(url("/oauth/token"), auth=(cid, sec), data={"grant_type": "refresh_token",
            "refresh_token": t["refresh_token"]}).json()
assert "access_token" in t2, t2
r = s.post(url("/oauth/revoke"), auth=(cid, sec), data={"token": t2["refresh_token"]})
assert r.status_code == 200
for i in range(2):
    r = s.get(url("/espi/1_1/resource/ReadServiceStatus"), headers={"Authorization": "Bearer " + t2["access_token"]})
    assert r.status_code == 401, r.status_code
print("ok")
PYEOF
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for f in pg1 pg2; do [ -s "$TMP/$f.err" ] && echo "# $f stderr: $(head -5 "$TMP/$f.err")"; done
  bash "$SRC/tests/feeds/pgtmp.sh" stop "$PGDIR" >/dev/null 2>&1 || true
else
  echo "# PostgreSQL half skipped: $(head -2 "$TMP/pg.err")"
fi

finish
