#!/usr/bin/env bash
# test_client_cli.sh -- `espigate client` and `espigate member` end to end (SQLite store):
# add/list/remove, JSON output, the client secret shown once and never listed or stored,
# the password never taken from the command line, and usage errors exiting 64.
set -euo pipefail
. "$ESPIGATE_SRC/tests/cli/lib.sh"
E=$ESPIGATE
if ! "$E" client --help >/dev/null 2>&1; then
  echo "skip: 'espigate client' is not a command yet" >&2
  exit 77
fi
export ESPIGATE_DB="sqlite:$TMP/dc.db"
unset ESPIGATE_MEMBER_PASSWORD
S1='FB=1_3_4_5_13_14_39;IntervalDuration=3600;BlockDuration=daily;HistoryLength=13'
S2='FB=4_5_15;IntervalDuration=900;BlockDuration=monthly;HistoryLength=24'

run "$E" client --help
expect_rc "client --help" 0
expect_match "client --help shows usage" "$OUT" "Usage: espigate client add"

run "$E" client add --name "Solar Helper" --redirect-uri https://solar.example/cb \
  --redirect-uri https://solar.example/cb2 --notify-uri https://solar.example/notify --scope "$S1" --scope "$S2"
expect_rc "client add" 0
expect_match "client add prints the client_id" "$OUT" "^client_id: [A-Za-z0-9_-]{22}"
expect_match "client add prints the secret" "$OUT" "client_secret: [A-Za-z0-9_-]{43}"
expect_match "client add says to store the secret now" "$OUT" "store the secret now; it cannot be shown again"
ID=$(printf '%s\n' "$OUT" | sed -n 's/^client_id: //p')
SECRET=$(printf '%s\n' "$OUT" | sed -n 's/^client_secret: //p')

run "$E" client add --format json --name "Meter Reader" --redirect-uri http://localhost:8080/cb --scope "$S2"
expect_rc "client add --format json" 0
expect_match "json add has client_id and client_secret" "$OUT" '^\{"client_id": "[A-Za-z0-9_-]+", "client_secret": "[A-Za-z0-9_-]{43}"'
if command -v python3 >/dev/null; then
  if printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["name"]=="Meter Reader"'; then
    ok "json add parses"; else not_ok "json add parses" "$OUT"; fi
fi

run "$E" client list
expect_rc "client list" 0
expect_match "list shows the first client" "$OUT" "^$ID	Solar Helper	2 redirect URIs"
expect_match "list shows the second client" "$OUT" "Meter Reader"
expect_no_match "list never shows a secret" "$OUT" "$SECRET"

run "$E" client list --format json
expect_rc "client list --format json" 0
expect_match "json list has redirect URIs" "$OUT" '"redirect_uris": \["https://solar.example/cb", "https://solar.example/cb2"\]'
expect_no_match "json list never has a secret" "$OUT" "$SECRET|client_secret"
if command -v python3 >/dev/null; then
  if printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d)==2 and len(d[0]["scopes"])>=1'; then
    ok "json list parses, two clients"; else not_ok "json list parses, two clients" "$OUT"; fi
fi
if grep -aq -- "$SECRET" "$TMP/dc.db" "$TMP/dc.db-wal" 2>/dev/null; then
  not_ok "the secret is not in the database files"; else ok "the secret is not in the database files"; fi

# bad arguments: 64
run "$E" client add --name X --redirect-uri https://x.example/cb
expect_rc "add without --scope: 64" 64
run "$E" client add --name X --redirect-uri http://x.example/cb --scope "$S1"
expect_rc "add with a plain-http redirect: 64" 64
expect_match "the message says why" "$ERR" "https://"
run "$E" client add --name X --redirect-uri https://x.example/cb --scope "read all"
expect_rc "add with a non-ESPI scope: 64" 64
run "$E" client frobnicate
expect_rc "unknown verb: 64" 64
run "$E" client --bogus list
expect_rc "unknown option: 64" 64
run "$E" client
expect_rc "no verb: 64" 64
run "$E" client list --name X
expect_rc "--name with list: 64" 64
run "$E" client add --format xml --name X --redirect-uri https://x.example/cb --scope "$S1"
expect_rc "bad --format: 64" 64

# members
run "$E" customer add cust1 "Jane Doe"
expect_rc "customer add" 0
printf 'hunter2-long\n' >"$TMP/pw"
run "$E" member add --customer cust1 --login jane --password-file "$TMP/pw"
expect_rc "member add with --password-file" 0
ESPIGATE_MEMBER_PASSWORD=other-pass run "$E" member add --customer cust1 --login jim
expect_rc "member add with ESPIGATE_MEMBER_PASSWORD" 0
run "$E" member add --customer cust1 --login joe </dev/null
expect_rc "member add with no password source and no TTY: 64" 64
run "$E" member add --customer nobody --login jack --password-file "$TMP/pw"
expect_rc "member add for an unknown customer: 64" 64
expect_match "says to add the customer" "$ERR" "customer add"
run "$E" member add --login jack --password-file "$TMP/pw"
expect_rc "member add without --customer: 64" 64
run "$E" member list
expect_rc "member list" 0
expect_match "member list shows jane" "$OUT" "^jane	cust1"
expect_match "member list shows jim" "$OUT" "jim	cust1"
run "$E" member list --format json
expect_match "member list json" "$OUT" '"login": "jane", "customer": "cust1"'
expect_no_match "no password or hash in the list" "$OUT" "hunter2|scrypt"
if grep -aq "hunter2-long" "$TMP/dc.db" "$TMP/dc.db-wal" 2>/dev/null; then
  not_ok "the password is not in the database files"; else ok "the password is not in the database files"; fi
run "$E" member remove jane
expect_rc "member remove" 0
run "$E" member remove jane
expect_rc "member remove again: not found" 66
run "$E" member list
expect_no_match "jane is gone" "$OUT" "^jane"

# remove a client
run "$E" client remove "$ID"
expect_rc "client remove" 0
run "$E" client list
expect_no_match "removed client is gone" "$OUT" "$ID"
run "$E" client remove "$ID"
expect_rc "client remove again: not found" 66
run "$E" client remove
expect_rc "client remove without an id: 64" 64

# ids and secrets never look like options (a leading '-' breaks command lines)
bad=0
for i in $(seq 40); do
  j=$("$ESPIGATE" client add --name "n$i" --redirect-uri https://app.example/cb --scope 'FB=1_3' --format json)
  printf '%s' "$j" | grep -Eq '"client_(id|secret)": "[-_]' && bad=$((bad + 1))
done
[ "$bad" = 0 ] && ok "40 client ids and secrets: none starts with - or _" || not_ok "ids or secrets starting with - or _: $bad"
finish
