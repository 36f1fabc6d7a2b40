#!/usr/bin/env bash
# test_consent_chromium.sh -- the consent page of `espigate serve` in headless
# Chromium (tests/feeds/consent.mjs): a member reads what the app asks for, logs
# in, approves, and lands on the app with a code; then the code is traded for a
# token with PKCE (curl), proving the browser flow grants real access.  The
# screenshot is kept in $ESPIGATE_BUILD/serve-artifacts/consent.png.  Needs node,
# Debian's chromium and playwright-core (installed into the project's
# node_modules when absent, like tests/render/test_chromium.sh); exit 77 if not.
set -euo pipefail
: "${ESPIGATE:?}" "${ESPIGATE_SRC:?}" "${ESPIGATE_BUILD:?}"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
command -v node >/dev/null || { echo "skip: node is not installed" >&2; exit 77; }
[ -x "$CHROMIUM" ] || { echo "skip: $CHROMIUM absent (apt-get install chromium)" >&2; exit 77; }
if [ ! -d "$ESPIGATE_SRC/node_modules/playwright-core" ]; then
  command -v npm >/dev/null || { echo "skip: npm absent, cannot install playwright-core" >&2; exit 77; }
  (cd "$ESPIGATE_SRC" && npm install --no-save --no-audit --no-fund playwright-core@1 >&2) ||
    { echo "skip: npm install playwright-core@1 failed (offline?)" >&2; exit 77; }
fi
. "$ESPIGATE_SRC/tests/cli/lib.sh"
PY=/usr/bin/python3
E=$ESPIGATE
art="$ESPIGATE_BUILD/serve-artifacts"
mkdir -p "$art"
SPID=
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$TMP"' EXIT

bash "$ESPIGATE_SRC/certs/make-dev-certs.sh" "$TMP/certs" >/dev/null
DB="sqlite:$TMP/store.db"
SCOPE='FB=1_3_4_5_13_39;IntervalDuration=900;BlockDuration=daily;HistoryLength=13'
REDIRECT=https://127.0.0.1:4431/cb   # not port 9: Chromium refuses "unsafe" ports
"$E" customer add --db "$DB" alice Alice >/dev/null
"$E" import --db "$DB" -q --customer alice "$ESPIGATE_SRC/samples/espi/demo.xml"
printf 'alice-pw-1' >"$TMP/pw"
"$E" member add --db "$DB" --customer alice --login alice --password-file "$TMP/pw" >/dev/null
j=$("$E" client add --db "$DB" --name "Solar Helper" --redirect-uri "$REDIRECT" --scope "$SCOPE" --format json)
CID=$(printf '%s' "$j" | $PY -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')
SEC=$(printf '%s' "$j" | $PY -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$E" serve --db "$DB" --listen "127.0.0.1:$PORT" --cert "$TMP/certs/server.pem" \
  --key "$TMP/certs/server.key" >"$TMP/serve.out" 2>&1 &
SPID=$!
for _ in $(seq 100); do grep -q 'listening on' "$TMP/serve.out" && break; sleep 0.1; done

VERIFIER=$($PY -c 'import secrets; print(secrets.token_urlsafe(48))')
CHALLENGE=$($PY -c 'import base64,hashlib,sys; print(base64.urlsafe_b64encode(hashlib.sha256(sys.argv[1].encode()).digest()).rstrip(b"=").decode())' "$VERIFIER")
STATE=st-$RANDOM$RANDOM
Q=$($PY -c 'import sys,urllib.parse as u; print(u.urlencode({"response_type":"code","client_id":sys.argv[1],"redirect_uri":sys.argv[2],"scope":sys.argv[3],"state":sys.argv[4],"code_challenge":sys.argv[5],"code_challenge_method":"S256"}))' "$CID" "$REDIRECT" "$SCOPE" "$STATE" "$CHALLENGE")
URL="https://localhost:$PORT/DataCustodian/oauth/authorize?$Q"

set +e
CHROMIUM="$CHROMIUM" NODE_PATH="$ESPIGATE_SRC/node_modules" node "$ESPIGATE_SRC/tests/feeds/consent.mjs" \
  "$URL" "$REDIRECT" "$STATE" alice alice-pw-1 "$art/consent.png" | tee "$TMP/browser.out"
set -e
grep -q '^not ok' "$TMP/browser.out" && not_ok "headless Chromium consent flow" || ok "headless Chromium consent flow"
[ -s "$art/consent.png" ] && ok "screenshot kept: $art/consent.png" || not_ok "screenshot kept"

# the code the browser brought back buys a token (PKCE): the page granted real access
landed=$(sed -n 's/^# landed //p' "$TMP/browser.out")
code=$($PY -c 'import sys,urllib.parse as u; print(u.parse_qs(u.urlparse(sys.argv[1]).query).get("code",[""])[0])' "$landed")
tok=$(curl -s --cacert "$TMP/certs/ca.pem" -u "$CID:$SEC" --data-urlencode grant_type=authorization_code \
        --data-urlencode "code=$code" --data-urlencode "redirect_uri=$REDIRECT" \
        --data-urlencode "code_verifier=$VERIFIER" "https://localhost:$PORT/DataCustodian/oauth/token")
expect_match "the browser's code buys an access token with PKCE" "$tok" '"access_token"'

# the member's own data page (the consent page's preview link)
set +e
CHROMIUM="$CHROMIUM" NODE_PATH="$ESPIGATE_SRC/node_modules" node "$ESPIGATE_SRC/tests/feeds/member.mjs" \
  "https://localhost:$PORT/DataCustodian/member" alice alice-pw-1 "$art/member.png" | tee "$TMP/member.out"
set -e
grep -q '^not ok' "$TMP/member.out" && not_ok "member data page in headless Chromium" || ok "member data page in headless Chromium"
finish
