#!/usr/bin/env bash
# test_notify_cli.sh -- `espigate notify add|list|send|retry` end to end.
#
# SQLite only (test_notify.c runs the queue itself on SQLite and PostgreSQL, over HTTPS).
# The receiver is tests/feeds/notify_receiver.py in plain-HTTP mode on 127.0.0.1 (an
# ephemeral port), so this also checks that http:// is refused without --allow-http.
set -euo pipefail
. "$ESPIGATE_SRC/tests/cli/lib.sh"
E=$ESPIGATE
if ! command -v python3 >/dev/null; then
  echo "skip: python3 (the test receiver) is not installed" >&2
  exit 77
fi
DB="sqlite:$TMP/n.db"
mkdir "$TMP/rcv"
python3 "$ESPIGATE_SRC/tests/feeds/notify_receiver.py" "$TMP/rcv" --plain &
RPID=$!
trap 'kill $RPID 2>/dev/null || true; wait $RPID 2>/dev/null || true; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do [ -f "$TMP/rcv/port" ] && break; sleep 0.1; done
PORT=$(cat "$TMP/rcv/port")
URI="http://127.0.0.1:$PORT/notify"
RES=https://dc.example/DataCustodian/espi/1_1/resource/Batch/Subscription/5f2c

run "$E" notify --help
expect_rc "notify --help" 0
expect_match "help names the subcommands" "$OUT" "notify retry"
run "$E" notify frobnicate
expect_rc "unknown subcommand: usage error" 64
run "$E" notify retry --db "$DB"
expect_rc "retry without an id: usage error" 64
run "$E" notify add --db "$DB" --client app1 "$RES"
expect_rc "add without --uri: usage error" 64

run "$E" notify list --db "$DB"
expect_rc "list an empty queue" 0
expect_match "empty queue said" "$OUT" "queue is empty"

run "$E" notify add --db "$DB" --client app1 --uri "$URI" "$RES"
expect_rc "add" 0
ID=$(printf '%s' "$OUT" | cut -d: -f1)
expect_match "add prints the row id" "$ID" '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
run "$E" notify add --db "$DB" --client app1 --uri "$URI" "$RES/UsagePoint/1"
expect_match "a second add for the same destination is merged" "$OUT" "^$ID:"

run "$E" notify list --db "$DB" --format json
expect_rc "list json" 0
expect_match "list json shows the pending row with both URIs" "$OUT" "\"id\": \"$ID\", \"state\": \"pending\".*\"resources\": 2, \"attempts\": 0"

run "$E" notify send --db "$DB"
expect_rc "send refuses http (not an error of the command)" 0
expect_match "send says the row failed for good" "$OUT" "1 due, 0 sent, 0 to retry later, 1 failed"
expect_match "send says why" "$OUT" "refused: .* is not an https:// URL"
if ls "$TMP/rcv"/req-* >/dev/null 2>&1; then not_ok "nothing reached the receiver"; else ok "nothing reached the receiver"; fi

run "$E" notify list --db "$DB"
expect_match "list shows the row failed" "$OUT" "$ID  failed +1 attempt, gave up  client app1"
expect_match "list shows the last error" "$OUT" "last error: refused"

run "$E" notify retry --db "$DB" "$ID"
expect_rc "retry" 0
run "$E" notify send --db "$DB" --allow-http
expect_rc "send with --allow-http" 0
expect_match "delivered" "$OUT" "1 due, 1 sent"
BODY=$(cat "$TMP/rcv"/req-1-200.xml 2>/dev/null || true)
expect_match "the receiver got the BatchList" "$BODY" "<BatchList xmlns=\"http://naesb.org/espi\">"
expect_match "with the merged URI" "$BODY" "<resources>$RES/UsagePoint/1</resources>"
run "$E" notify retry --db "$DB" "$ID"
expect_rc "retry of a sent row: usage error" 64

# a receiver that answers 500: retried later, not failed
echo 500 >"$TMP/rcv/status"
run "$E" notify add --db "$DB" --client app2 --uri "$URI" "$RES"
run "$E" notify send --db "$DB" --allow-http
expect_match "a 500 is retried later" "$OUT" "1 due, 0 sent, 1 to retry later, 0 failed"
expect_match "the 500 is named" "$OUT" "HTTP 500 from the receiver"
run "$E" notify send --db "$DB" --allow-http
expect_match "not due again at once" "$OUT" "0 due"

# prune: sent rows go once old enough; the pending (retrying) row stays
run "$E" notify prune --db "$DB"
expect_rc "prune" 0
expect_match "prune keeps a row sent today (default 30 days)" "$OUT" "pruned 0 sent"
run "$E" notify prune --db "$DB" --older-than 0
expect_match "prune --older-than 0 deletes the sent row" "$OUT" "pruned 1 sent"
run "$E" notify list --db "$DB"
expect_no_match "the sent row is gone" "$OUT" "$ID"
expect_match "the retrying row stays" "$OUT" "client app2"
run "$E" notify prune --db "$DB" --older-than soon
expect_rc "prune --older-than soon: usage error" 64
finish
