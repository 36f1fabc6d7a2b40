#!/bin/bash
# test_pull_cli.sh -- `espigate pull smarthub` against a local fake SmartHub portal.
#
# fake_smarthub.py serves the committed samples/smarthub poll answers over TLS
# with a throwaway self-signed certificate made here with openssl, passed to
# espigate with --ca, so certificate verification is exercised for real.
# Checked: the feed is byte-identical to `espigate translate --tz` of the same
# JSON (one request, 1-day chunks, the bare-data answer shape); what espigate
# sent (form-encoded password with symbols, XSRF header, Bearer token and
# username headers, poll body with true-UTC bounds of the local days); that
# neither the password nor the token is ever printed; and every failure: wrong
# password (77), two-factor 500 (77, and --otp-code), PENDING forever (75), an
# expired token (re-login), an HTML page (69), status FAILED (69), no server
# (69), an untrusted certificate (69) and --insecure, a hanging server (69 after
# --timeout), an answer over the size cap (65), account discovery through
# /accounts and user-data, several service locations (64), usage errors (64).
# Every espigate run is bounded by `timeout`; the fake server dies with the test.
set -u
: "${ESPIGATE:?ESPIGATE not set}" "${ESPIGATE_SRC:?ESPIGATE_SRC not set}"
skip() { echo "SKIP: $*" >&2; exit 77; }
"$ESPIGATE" pull --help 2>/dev/null | grep -q -- '--portal-url' ||
    skip "$ESPIGATE has no pull command (cli/main.c does not dispatch to cmd_pull)"
command -v python3 >/dev/null || skip "python3 not installed (the fake portal needs it)"
command -v openssl >/dev/null || skip "openssl not installed (the test certificate needs it)"
command -v timeout >/dev/null || skip "timeout (coreutils) not installed"
. "$ESPIGATE_SRC/tests/cli/lib.sh"

samples=$ESPIGATE_SRC/samples/smarthub
fake=$ESPIGATE_SRC/tests/translate/fake_smarthub.py
hourly=$samples/poll_hourly_with_cost.json
user=member@example.com
PW='p&ss w=rd%+ü;"x'\''#?'
printf '%s\n' "$PW" >"$TMP/pw"
chmod 600 "$TMP/pw"
SRV_PID= PORT=
stop_server() {
    if [ -n "$SRV_PID" ]; then kill "$SRV_PID" 2>/dev/null || true; wait "$SRV_PID" 2>/dev/null || true; SRV_PID=; fi
}
trap 'stop_server; rm -rf "$TMP"' EXIT

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" -days 2 \
    -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost >/dev/null 2>&1 ||
    skip "openssl could not make a test certificate"

# start_server ARGS...: a fresh fake portal (and request log) on a free port
start_server() {
    stop_server
    : >"$TMP/log.jsonl"
    : >"$TMP/port"
    python3 "$fake" --cert "$TMP/cert.pem" --key "$TMP/key.pem" --log "$TMP/log.jsonl" \
        --user "$user" --password "$PW" --data "$hourly" "$@" >"$TMP/port" 2>"$TMP/server.err" &
    SRV_PID=$!
    PORT=
    for _ in $(seq 200); do
        PORT=$(head -1 "$TMP/port")
        [ -n "$PORT" ] && return 0
        sleep 0.05
    done
    not_ok "fake portal starts" "$(cat "$TMP/server.err")"
}

# pull ARGS...: espigate pull with the usual options, at most 60 s
pull() {
    run timeout 60 "$ESPIGATE" pull smarthub --portal-url "https://127.0.0.1:$PORT" \
        --ca "$TMP/cert.pem" --user "$user" --account 7700123456 --tz America/Chicago \
        --password-file "$TMP/pw" --poll-interval 10 --timeout 20 "$@"
}

# (lib.sh's run leaves `set -e` on: helpers here must not fail)
# log_check NAME PYTHON: run PYTHON with `log` = the list of requests; it prints "ok" or why not
log_check() {
    local got
    got=$(python3 - "$TMP/log.jsonl" "$PW" 2>&1 <<PY
import json, sys
log = [json.loads(l) for l in open(sys.argv[1])]
PW = sys.argv[2]
polls = [r for r in log if r["path"] == "/services/secured/utility-usage/poll"]
logins = [r for r in log if r["path"] == "/services/oauth/auth/v2"]
$2
print("ok")
PY
) || true
    [ "$got" = ok ] && ok "$1" || not_ok "$1" "$got"
}

no_secrets() { # NAME: neither the password nor any token in what espigate printed
    if grep -qF -- "$PW" <<<"$OUT$ERR" || grep -q 's3cr3t' <<<"$OUT$ERR"; then
        not_ok "$1: no password or token printed" "$ERR"
    else ok "$1: no password or token printed"; fi
}

translated() { # JSON OUT: what `espigate translate` writes for JSON
    "$ESPIGATE" translate -q --tz America/Chicago -o "$2" "$1"
}

# ---- success: the feed equals translate of the same answer -------------------------------
for src in "$samples"/*.json; do
    name=$(basename "$src" .json)
    case $name in
    poll_15min*) days="--from 2024-07-15 --to 2024-07-15" ;;
    poll_hourly*) days="--from 2024-01-08 --to 2024-01-10" ;;
    poll_multi*) days="--from 2024-05-20 --to 2024-05-20" ;;
    esac
    start_server --data "$src"
    # shellcheck disable=SC2086
    pull $days -o "$TMP/$name.pulled.xml"
    expect_rc "pull $name" 0
    translated "$src" "$TMP/$name.translated.xml"
    cmp -s "$TMP/$name.pulled.xml" "$TMP/$name.translated.xml" &&
        ok "pull $name == translate $name (byte for byte)" ||
        not_ok "pull $name == translate $name (byte for byte)" \
            "$(diff "$TMP/$name.translated.xml" "$TMP/$name.pulled.xml" | head -10)"
    no_secrets "pull $name"
done
cmp -s "$TMP/poll_hourly_with_cost.pulled.xml" "$samples/poll_hourly_with_cost.expected.xml" &&
    ok "pulled feed equals the committed golden" || not_ok "pulled feed equals the committed golden"

start_server --xsrf
pull --from 2024-01-08 --to 2024-01-10 --summary -o "$TMP/x.xml"
expect_rc "portal that needs the XSRF header" 0
expect_match "--summary: exact kWh in and out" "$OUT" 'kWh in 80\.490, out 80\.490'
expect_match "--summary: cost" "$OUT" 'cost in 9\.53780, out 9\.53780'
expect_match "--summary: requests and polls" "$OUT" 'in 1 request \(2 polls\)'
expect_match "progress says PENDING" "$ERR" 'PENDING \(try 1 of 20\)'
log_check "login: GET /ui/ first, X-XSRF-TOKEN echoes the cookie" '
assert log[0]["path"] == "/ui/", log[0]
assert logins[0]["headers"].get("X-XSRF-TOKEN") == "xsrf-abc123", logins[0]'
log_check "login: form-encoded, the password with symbols arrives intact" '
assert logins[0]["headers"]["Content-Type"] == "application/x-www-form-urlencoded", logins[0]
assert logins[0]["body"] == {"userId": "member@example.com", "password": PW}, logins[0]["body"]'
log_check "secured calls: Bearer token and username headers" '
for r in log[2:]:
    assert r["headers"].get("Authorization") == "Bearer tok-1-s3cr3t-jwt", r
    assert r["headers"].get("X-NISC-SMARTHUB-USERNAME") == "member@example.com", r'
log_check "service location discovered through /accounts" '
assert [r["path"] for r in log[2:3]] == ["/services/secured/accounts"], log'
log_check "poll body: HOURLY, USAGE_EXPLORER, ELECTRIC, true-UTC ms of the local days" '
assert len(polls) == 2 and polls[0]["body"] == polls[1]["body"], polls
b = json.loads(polls[0]["body"])
want = {"timeFrame": "HOURLY", "userId": "member@example.com", "screen": "USAGE_EXPLORER",
        "includeDemand": False, "serviceLocationNumber": "5550123", "accountNumber": "7700123456",
        "industries": ["ELECTRIC"], "startDateTime": 1704693600000, "endDateTime": 1704952800000}
assert b == want, b
assert polls[0]["headers"]["Content-Type"] == "application/json", polls[0]'

# the feed on stdout, the password from the environment
start_server
run timeout 60 env ESPIGATE_PASSWORD="$PW" "$ESPIGATE" pull smarthub --portal-url "https://127.0.0.1:$PORT" \
    --ca "$TMP/cert.pem" --user "$user" --account 7700123456 --tz America/Chicago --from 2024-01-08 \
    --to 2024-01-10 --poll-interval 10 -q
expect_rc "ESPIGATE_PASSWORD, feed on stdout" 0
[ "$OUT" = "$(cat "$TMP/poll_hourly_with_cost.translated.xml")" ] && ok "stdout feed equals translate" ||
    not_ok "stdout feed equals translate"
expect_no_match "--quiet says nothing" "$ERR" '.'

# the password typed at a terminal prompt, without echo (a pseudo-terminal plays the user)
run timeout 60 python3 - "$PW" "$ESPIGATE" pull smarthub --portal-url "https://127.0.0.1:$PORT" \
    --ca "$TMP/cert.pem" --user "$user" --account 7700123456 --tz America/Chicago --from 2024-01-08 \
    --to 2024-01-10 --poll-interval 10 -q -o "$TMP/tty.xml" <<'PY'
import os, pty, select, sys, termios, time
pw, argv = sys.argv[1].encode(), sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.environ.pop("ESPIGATE_PASSWORD", None)
    os.execv(argv[0], argv)
def read_until(pred, secs):
    buf, end = b"", time.time() + secs
    while time.time() < end and not pred(buf):
        if select.select([fd], [], [], 0.1)[0]:
            try: chunk = os.read(fd, 4096)
            except OSError: break
            if not chunk: break
            buf += chunk
    return buf
seen = read_until(lambda b: b"password for member@example.com: " in b, 10)
assert b"password for" in seen, seen
end = time.time() + 5
while termios.tcgetattr(fd)[3] & termios.ECHO and time.time() < end: time.sleep(0.01)
assert not termios.tcgetattr(fd)[3] & termios.ECHO, "echo still on"
os.write(fd, pw + b"\n")
rest = read_until(lambda b: False, 20)
_, status = os.waitpid(pid, 0)
assert pw not in seen + rest, "the password was echoed"
print("exit", os.waitstatus_to_exitcode(status))
PY
expect_match "terminal prompt without echo, then the pull succeeds" "$OUT$ERR" '^exit 0$'
cmp -s "$TMP/tty.xml" "$TMP/poll_hourly_with_cost.translated.xml" && ok "prompted password: same feed" ||
    not_ok "prompted password: same feed"

# ---- chunks: one request per day, the same feed ------------------------------------------------
start_server --slice-tz America/Chicago
pull --from 2024-01-08 --to 2024-01-10 --chunk-days 1 -o "$TMP/chunked.xml"
expect_rc "--chunk-days 1" 0
cmp -s "$TMP/chunked.xml" "$TMP/poll_hourly_with_cost.translated.xml" &&
    ok "three one-day requests give the same feed" || not_ok "three one-day requests give the same feed"
log_check "three requests for three local days" '
starts = sorted({json.loads(p["body"])["startDateTime"] for p in polls})
ends = sorted({json.loads(p["body"])["endDateTime"] for p in polls})
assert starts == [1704693600000, 1704780000000, 1704866400000], starts
assert ends == [1704780000000, 1704866400000, 1704952800000], ends'
# without slicing every request gets all three days: each chunk keeps only its own
start_server
pull --from 2024-01-08 --to 2024-01-10 --chunk-days 1 --summary -o "$TMP/overlap.xml"
expect_rc "chunks answered with more than their days" 0
cmp -s "$TMP/overlap.xml" "$TMP/poll_hourly_with_cost.translated.xml" &&
    ok "readings outside a chunk's days are dropped, none twice" ||
    not_ok "readings outside a chunk's days are dropped, none twice" "$ERR"
expect_match "and counted" "$OUT" 'outside the days asked for: 144\)'

# bounds of DST days: 2024-03-10 has 23 hours, 2024-11-03 25 (true UTC ms of local midnights)
start_server --slice-tz America/Chicago
pull --from 2024-03-09 --to 2024-03-11 --chunk-days 1 -o "$TMP/dst.xml"
expect_rc "days with no data in the answer: 65" 65
expect_match "says no readings for the days" "$ERR" 'no interval readings for 2024-03-09\.\.2024-03-11 .*all empty'
log_check "spring-forward day asked as 23 hours" '
b = sorted({(json.loads(p["body"])["startDateTime"], json.loads(p["body"])["endDateTime"]) for p in polls})
assert b == [(1709964000000, 1710050400000), (1710050400000, 1710133200000),
             (1710133200000, 1710219600000)], b'
: >"$TMP/log.jsonl"
pull --from 2024-11-03 --to 2024-11-03 -o "$TMP/dst.xml"
log_check "fall-back day asked as 25 hours" '
b = {(json.loads(p["body"])["startDateTime"], json.loads(p["body"])["endDateTime"]) for p in polls}
assert b == {(1730610000000, 1730700000000)}, b'

start_server --bare
pull --from 2024-01-08 --to 2024-01-10 -o "$TMP/bare.xml"
expect_rc "an answer without the status wrapper" 0
cmp -s "$TMP/bare.xml" "$TMP/poll_hourly_with_cost.translated.xml" && ok "bare answer: same feed" ||
    not_ok "bare answer: same feed"

start_server --no-accounts
pull --from 2024-01-08 --to 2024-01-10 -o "$TMP/ud.xml"
expect_rc "discovery through user-data when /accounts is missing" 0
log_check "user-data asked with the user id" '
assert any(r["path"] == "/services/secured/user-data?userId=member%40example.com" for r in log), log'

start_server --locations 5550123,5550999
pull --from 2024-01-08 --to 2024-01-10 -o "$TMP/two.xml"
expect_rc "two service locations: say which (64)" 64
expect_match "lists them" "$ERR" '5550123, 5550999.*--service-location'
: >"$TMP/log.jsonl"
pull --from 2024-01-08 --to 2024-01-10 --service-location 5550123 -o "$TMP/two.xml"
expect_rc "--service-location given" 0
log_check "no account lookup with --service-location" '
assert not any("accounts" in r["path"] for r in log), log'
pull --account 999 --from 2024-01-08 --to 2024-01-10 -o "$TMP/acct.xml"
expect_rc "an account not in the login's list (64)" 64
expect_match "names the accounts found" "$ERR" 'account 999 is not among.*1000001, 7700123456'

# ---- failures ----------------------------------------------------------------------------------
start_server --password other
pull --from 2024-01-08 --to 2024-01-10 -o "$TMP/f.xml"
expect_rc "wrong password: 77" 77
expect_match "says the login was refused" "$ERR" 'login refused for member@example.com'
no_secrets "wrong password"
[ ! -e "$TMP/f.xml" ] && ok "no feed after a failure" || not_ok "no feed after a failure"
start_server --password other --bad-login-status 401
pull --from 2024-01-08 --to 2024-01-10 -o "$TMP/f.xml"
expect_rc "wrong password answered 401: 77" 77
expect_match "check the user and the password" "$ERR" 'HTTP 401.*check the user and the password'

start_server --mfa
pull --from 2024-01-08 --to 2024-01-10 -o "$TMP/f.xml"
expect_rc "two-factor account: 77" 77
expect_match "says two-factor" "$ERR" 'this account uses two-factor authentication: .*could not be verified.*--otp-code'
: >"$TMP/log.jsonl"
pull --from 2024-01-08 --to 2024-01-10 --otp-code 123456 -o "$TMP/mfa.xml"
expect_rc "two-factor account with --otp-code" 0
log_check "twoFactorCode sent in the form" '
assert logins[-1]["body"].get("twoFactorCode") == "123456", logins'

start_server --pending 1000
t0=$(date +%s)
pull --from 2024-01-08 --to 2024-01-10 --poll-tries 3 --poll-interval 100 -o "$TMP/f.xml"
expect_rc "PENDING forever: gives up with 75" 75
expect_match "says PENDING after 3 tries" "$ERR" 'still answered PENDING after 3 tries'
log_check "exactly 3 polls" 'assert len(polls) == 3, len(polls)'
[ $(($(date +%s) - t0)) -lt 20 ] && ok "giving up is quick" || not_ok "giving up is quick"

start_server --expire-first-token
pull --from 2024-01-08 --to 2024-01-10 -o "$TMP/expired.xml"
expect_rc "expired token: logs in again" 0
cmp -s "$TMP/expired.xml" "$TMP/poll_hourly_with_cost.translated.xml" && ok "expired token: same feed" ||
    not_ok "expired token: same feed"
log_check "two logins, then the new token" '
assert len(logins) == 2, len(logins)
assert polls and all(p["headers"]["Authorization"] == "Bearer tok-2-s3cr3t-jwt" for p in polls), polls'
no_secrets "expired token"

start_server --html poll
pull --from 2024-01-08 --to 2024-01-10 -o "$TMP/f.xml"
expect_rc "HTML page instead of the poll answer: 69" 69
expect_match "says web page" "$ERR" 'answered with a web page \(HTTP 200, text/html'
start_server --html login
pull --from 2024-01-08 --to 2024-01-10 -o "$TMP/f.xml"
expect_rc "HTML page instead of the login answer: 69" 69

start_server --poll-status FAILED
pull --from 2024-01-08 --to 2024-01-10 -o "$TMP/f.xml"
expect_rc "status FAILED: 69" 69
expect_match "says FAILED" "$ERR" 'status FAILED for account 7700123456, service location 5550123'

start_server
pull --from 2024-01-08 --to 2024-01-10 --max-answer-bytes 4096 -o "$TMP/f.xml"
expect_rc "answer over --max-answer-bytes: 65" 65
expect_match "says larger than" "$ERR" 'larger than 4096 bytes'

run timeout 60 "$ESPIGATE" pull smarthub --portal-url "https://127.0.0.1:$PORT" --user "$user" \
    --account 7700123456 --tz America/Chicago --password-file "$TMP/pw" --from 2024-01-08 --to 2024-01-10 \
    --poll-interval 10 -o "$TMP/f.xml"
expect_rc "self-signed certificate without --ca: 69" 69
expect_match "says TLS and --ca" "$ERR" 'TLS with https://127\.0\.0\.1:[0-9]+ failed: .*--ca FILE'
run timeout 60 "$ESPIGATE" pull smarthub --portal-url "https://127.0.0.1:$PORT" --insecure --user "$user" \
    --account 7700123456 --tz America/Chicago --password-file "$TMP/pw" --from 2024-01-08 --to 2024-01-10 \
    --poll-interval 10 -o "$TMP/insecure.xml"
expect_rc "--insecure skips the check" 0
expect_match "--insecure warns" "$ERR" 'warning: --insecure'
run timeout 60 "$ESPIGATE" pull smarthub --portal-url "https://localhost:$PORT" --ca "$TMP/cert.pem" \
    --user "$user" --account 7700123456 --tz America/Chicago --password-file "$TMP/pw" \
    --from 2024-01-08 --to 2024-01-10 --poll-interval 10 -o "$TMP/byname.xml"
expect_rc "the certificate's DNS name verifies too" 0

start_server --hang 30
t0=$(date +%s)
pull --from 2024-01-08 --to 2024-01-10 --timeout 1 -o "$TMP/f.xml"
expect_rc "a hanging portal: 69 after --timeout" 69
expect_match "says it did not answer" "$ERR" 'did not answer within 1000 ms'
[ $(($(date +%s) - t0)) -lt 10 ] && ok "--timeout bounds the request" || not_ok "--timeout bounds the request"

start_server
stop_server
pull --from 2024-01-08 --to 2024-01-10 -o "$TMP/f.xml"
expect_rc "no server: 69" 69
expect_match "says it cannot reach the portal" "$ERR" 'cannot reach https://127\.0\.0\.1'

# ---- usage ---------------------------------------------------------------------------------------
pull --from 2024-01-08 -o "$TMP/f.xml"
expect_rc "--to missing: 64" 64
run timeout 10 "$ESPIGATE" pull smarthub --host coop.smarthub.coop --user "$user" --account 1 \
    --from 2024-01-08 --to 2024-01-10 --password-file "$TMP/pw"
expect_rc "--tz missing: 64" 64
expect_match "says --tz" "$ERR" '--tz is required'
pull --from 2024-01-10 --to 2024-01-08
expect_rc "--from after --to: 64" 64
pull --from 2024-02-30 --to 2024-03-01
expect_rc "not a date: 64" 64
run timeout 10 "$ESPIGATE" pull smarthub --portal-url "http://127.0.0.1:1" --user "$user" --account 1 \
    --tz America/Chicago --from 2024-01-08 --to 2024-01-10 --password-file "$TMP/pw"
expect_rc "http:// without --insecure: 64" 64
run timeout 10 "$ESPIGATE" pull smarthub --host 'coop.smarthub.coop/x?y' --user "$user" --account 1 \
    --tz America/Chicago --from 2024-01-08 --to 2024-01-10 --password-file "$TMP/pw"
expect_rc "a host with a path: 64" 64
run timeout 10 env -u ESPIGATE_PASSWORD "$ESPIGATE" pull smarthub --host coop.smarthub.coop --user "$user" \
    --account 1 --tz America/Chicago --from 2024-01-08 --to 2024-01-10 </dev/null
expect_rc "no password source and no terminal: 64" 64
expect_match "says where a password can come from" "$ERR" 'password-file.*ESPIGATE_PASSWORD'
run timeout 10 "$ESPIGATE" pull opower --host x
expect_rc "unknown source: 64" 64
run "$ESPIGATE" pull --help
expect_match "--help documents the exit statuses" "$OUT" '75 SmartHub still said PENDING.*'
expect_match "--help documents 77" "$OUT" '77 login refused'

finish
