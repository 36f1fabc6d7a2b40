#!/usr/bin/env bash
# test_audit_cli.sh -- `espigate audit` against a fake Data Custodian (fake_dc.py).
#
# The clean fake passes every rule (exit 0, nothing skipped); each fault mode fails
# EXACTLY the rules it should (the json report's failed_rules compared with the expected
# set); hang/reset/garbage/2 GB end with a report, exit 65, in bounded time and memory
# (/usr/bin/time %M < 100 MB); a closed port and a server that never answers end with
# exit 69; junit and html reports are well-formed (xmllint) and the html has its summary
# table and opens in headless Chromium (audit_chromium.mjs; that part is skipped with a
# note when node, chromium or playwright-core is absent).  Needs python3 and openssl.
set -euo pipefail
. "$ESPIGATE_SRC/tests/cli/lib.sh"
E=$ESPIGATE
command -v python3 >/dev/null || { echo "skip: python3 absent" >&2; exit 77; }
command -v openssl >/dev/null || { echo "skip: openssl absent" >&2; exit 77; }
"$E" audit --help >/dev/null 2>&1 || { echo "skip: 'espigate audit' is not a command" >&2; exit 77; }

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" -days 2 \
  -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" 2>/dev/null
FAKE_PID=
stop_fake() { if [ -n "$FAKE_PID" ]; then kill "$FAKE_PID" 2>/dev/null || true; wait "$FAKE_PID" 2>/dev/null || true; FAKE_PID=; fi; }
trap 'stop_fake; rm -rf "$TMP"' EXIT

start_fake() { # MODE -> sets PORT
  rm -f "$TMP/port"
  python3 "$ESPIGATE_SRC/tests/feeds/fake_dc.py" --cert "$TMP/cert.pem" --key "$TMP/key.pem" \
    --sample "$ESPIGATE_SRC/samples/espi/demo.xml" --port-file "$TMP/port" --fault "$1" \
    2>"$TMP/fake.$1.log" &
  FAKE_PID=$!
  for _ in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.1; done
  PORT=$(cat "$TMP/port")
}

# audit MODE [extra args]: run with the json report; RC, FAILED (sorted ids), MEM (KB), SECS
audit() {
  local mode=$1; shift
  set +e
  /usr/bin/time -f "%M %e" -o "$TMP/time.$mode" "$E" audit -b "https://127.0.0.1:$PORT/DataCustodian" \
    --client-id audit-app --client-secret s3cret --token customer-token-A --ca-file "$TMP/cert.pem" \
    --timeout 2 --max-bytes 50000000 "$@" >"$TMP/out.$mode" 2>"$TMP/err.$mode"
  RC=$?
  set -e
  read -r MEM SECS < <(tail -1 "$TMP/time.$mode")
  FAILED=$(python3 -c 'import json,sys; print(" ".join(sorted(json.load(open(sys.argv[1]))["failed_rules"])))' \
           "$TMP/out.$mode" 2>/dev/null || echo "(no json report)")
}

# 1. the clean fake passes every rule, none skipped
start_fake none
audit none -f json
expect_rc "clean fake: exit 0" 0
if [ -z "$FAILED" ]; then ok "clean fake: no rule failed"; else not_ok "clean fake: no rule failed" "failed: $FAILED"; fi
SKIPPED=$(python3 -c 'import json,sys; print(" ".join(r["id"] for r in json.load(open(sys.argv[1]))["rules"] if r["status"]!="pass"))' "$TMP/out.none")
if [ -z "$SKIPPED" ]; then ok "clean fake: every rule passed (none skipped)"
else not_ok "clean fake: every rule passed (none skipped)" "not passed: $SKIPPED"; fi
MISSING=$(python3 -c 'import json,sys; d=open(sys.argv[2]).read(); print(" ".join(r["id"] for r in json.load(open(sys.argv[1]))["rules"] if "| "+r["id"]+" |" not in d))' "$TMP/out.none" "$ESPIGATE_SRC/docs/rules.md")
if [ -z "$MISSING" ]; then ok "every AUD rule is in docs/rules.md"; else not_ok "every AUD rule is in docs/rules.md" "missing: $MISSING"; fi
# junit and html from the same server
audit junit -f junit -o "$TMP/report.xml"
if xmllint --noout "$TMP/report.xml" 2>"$TMP/xl"; then ok "junit report is well-formed"; else not_ok "junit report is well-formed" "$(cat "$TMP/xl")"; fi
expect_match "junit: one testcase per rule" "$(grep -c '<testcase' "$TMP/report.xml")" '^2[0-9]$'
audit html -f html -o "$TMP/report.html"
expect_rc "html report: exit 0" 0
if xmllint --html --noout "$TMP/report.html" 2>"$TMP/xl"; then ok "html report parses"; else not_ok "html report parses" "$(cat "$TMP/xl")"; fi
expect_match "html report has the summary table" "$(cat "$TMP/report.html")" '<table id="summary">'
expect_match "html report has one row per rule" "$(grep -c '<tr id="AUD-' "$TMP/report.html")" '^2[0-9]$'
audit text
expect_match "text report ends with the summary" "$(tail -1 "$TMP/out.text")" '^PASS: [0-9]+ rules passed, 0 failed'
stop_fake

# 2. each fault fails exactly its rules
# 100 MB; ASan keeps up to 256 MB of freed memory in quarantine, so a sanitizer build
# gets more room (its own allocations are what is measured, not the body)
MEM_LIMIT=102400
case "$(ldd "$E" 2>/dev/null)" in *libasan*) MEM_LIMIT=409600 ;; esac
while IFS='|' read -r mode want; do
  start_fake "$mode"
  audit "$mode" -f json
  expect_rc "$mode: exit 65" 65
  if [ "$FAILED" = "$want" ]; then ok "$mode: fails exactly [$want]"
  else not_ok "$mode: fails exactly [$want]" "failed: [$FAILED]"; fi
  if [ "$MEM" -lt "$MEM_LIMIT" ]; then ok "$mode: memory ${MEM} KB < $MEM_LIMIT KB"; else not_ok "$mode: memory ${MEM} KB < $MEM_LIMIT KB"; fi
  expect_match "$mode: done in bounded time (${SECS} s)" "$SECS" '^([0-9]|1[0-9])\.'
  stop_fake
done <<'EOF'
content-type|AUD-HTTP-003
missing-link|AUD-LINK-001
leak|AUD-OAUTH-006
bad-token|AUD-OAUTH-001 AUD-OAUTH-002 AUD-OAUTH-003
old-tls|AUD-TLS-003
hang|AUD-HTTP-001
reset|AUD-HTTP-001
garbage|AUD-VALID-001
huge|AUD-HTTP-002
EOF
expect_match "huge: the report says the body was cut" "$(cat "$TMP/out.huge")" 'larger than --max-bytes'
expect_match "hang: the report says the request timed out" "$(cat "$TMP/out.hang")" '[Tt]imeout|timed out'

# 3. nothing answers: exit 69 with a report
start_fake hang-all
audit hang-all -f text
expect_rc "server accepts but never answers: exit 69" 69
expect_match "hang-all: report says UNREACHABLE" "$(tail -1 "$TMP/out.hang-all")" '^UNREACHABLE'
stop_fake
audit closed -f text   # PORT is closed now
expect_rc "closed port: exit 69" 69
expect_match "closed port: the note names the failure" "$(cat "$TMP/out.closed")" 'cannot reach'

# 4. certificate not trusted: fails AUD-TLS-002 and stops, unless --insecure
start_fake none
set +e
"$E" audit -b "https://127.0.0.1:$PORT/DataCustodian" --token customer-token-A \
  -r "https://127.0.0.1:$PORT/DataCustodian/espi/1_1/resource/Batch/Subscription/x" -f json \
  >"$TMP/out.untrusted" 2>/dev/null
RC=$?
set -e
expect_rc "untrusted certificate: exit 65" 65
expect_match "untrusted certificate: AUD-TLS-002 failed" "$(cat "$TMP/out.untrusted")" '"failed_rules": \["AUD-TLS-002"\]'
run "$E" audit -b "https://127.0.0.1:$PORT/DataCustodian" --client-id audit-app --client-secret s3cret \
  --token customer-token-A --insecure
expect_match "--insecure warns loudly" "$ERR" 'WARNING: --insecure'
expect_match "--insecure still fails AUD-TLS-002, and only it" "$(grep '^FAIL AUD-' "$TMP/out" | tr '\n' ' ')" '^FAIL AUD-TLS-002 +the server certificate[^F]*$'
stop_fake

# 5. usage
run "$E" audit --token t
expect_rc "no --base-url: exit 64" 64
run "$E" audit -b https://127.0.0.1:1/DataCustodian --token t
expect_rc "--token without --resource-uri or client: exit 64" 64

# 6. the html report in headless Chromium
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
NODE_MODULES=
# playwright-core from the project's node_modules (test_chromium.sh installs it there),
# or from a folder named by PLAYWRIGHT_NODE_MODULES
for d in "$ESPIGATE_SRC/node_modules" "${PLAYWRIGHT_NODE_MODULES:-}"; do
  [ -n "$d" ] && [ -d "$d/playwright-core" ] && NODE_MODULES=$d && break
done
if ! command -v node >/dev/null || [ ! -x "$CHROMIUM" ] || [ -z "$NODE_MODULES" ]; then
  echo "note: node, $CHROMIUM or playwright-core absent: the Chromium check is skipped" >&2
else
  art="$ESPIGATE_BUILD/audit-artifacts"
  mkdir -p "$art"
  cp "$TMP/report.html" "$art/audit.html"
  mkdir -p "$TMP/feeds"  # the layout of tests/, so '../browser.mjs' resolves
  cp "$ESPIGATE_SRC/tests/feeds/audit_chromium.mjs" "$TMP/feeds/audit_chromium.mjs"
  cp "$ESPIGATE_SRC/tests/browser.mjs" "$TMP/browser.mjs"
  ln -s "$NODE_MODULES" "$TMP/node_modules"
  run env CHROMIUM="$CHROMIUM" node "$TMP/feeds/audit_chromium.mjs" "$art" "$art/audit.html"
  expect_rc "chromium: the html report reads right" 0
  echo "$OUT"
  [ -s "$art/audit.png" ] && ok "chromium: screenshot saved" || not_ok "chromium: screenshot saved"
fi
finish
