#!/usr/bin/env bash
# test_store.sh -- the store commands end to end: import, export, customer, db check.
#
# Runs against SQLite (the PostgreSQL backend is covered by test_store.c, which runs the
# same store suite on both).  Skips (77) when the commands are not in the dispatcher yet.
set -euo pipefail
. "$ESPIGATE_SRC/tests/cli/lib.sh"
E=$ESPIGATE
if ! "$E" import --help >/dev/null 2>&1; then
  echo "skip: 'espigate import' is not a command yet (cli/main.c's table lacks the store commands)" >&2
  exit 77
fi
DB="sqlite:$TMP/s.db"

"$E" synth --usage-points 2 --days 4 --cost --quality --net -o "$TMP/a.xml"
"$E" synth --usage-points 1 --days 2 --seed 9 -o "$TMP/b.xml"

run "$E" import --db "$DB" "$TMP/a.xml"
expect_rc "import a valid feed" 0
expect_match "import says what it stored" "$OUT" "stored: [0-9]+ entries, 1536 readings \\([0-9]+ new"

run "$E" import --db "$DB" "$TMP/a.xml"
expect_rc "import it again" 0
expect_match "second import changes nothing" "$OUT" "\\(0 new, 0 replaced, [0-9]+ unchanged"

run "$E" export --db "$DB" -o "$TMP/out.xml"
expect_rc "export" 0
if cmp -s "$TMP/a.xml" "$TMP/out.xml"; then ok "export is byte-identical to the imported feed"
else not_ok "export is byte-identical to the imported feed" "$(cmp "$TMP/a.xml" "$TMP/out.xml" 2>&1)"; fi
if command -v python3 >/dev/null; then
  run python3 "$ESPIGATE_SRC/tests/feeds/feedcmp.py" "$TMP/a.xml" "$TMP/out.xml"
  expect_rc "feedcmp agrees the data is the same" 0
fi

# an invalid feed (a value that is not a number) is rejected whole, with the validator's message
sed '0,/<value>/s/<value>/<value>x/' "$TMP/b.xml" >"$TMP/bad.xml"
run "$E" import --db "$DB" "$TMP/bad.xml"
expect_rc "invalid feed: exit 65" 65
expect_match "invalid feed: the validator's finding is printed" "$OUT" "bad.xml:[0-9]+:[0-9]+: SCHEMA-"
expect_match "invalid feed: says nothing was stored" "$ERR" "rejected, nothing was stored"
run "$E" export --db "$DB" -o "$TMP/out2.xml"
if cmp -s "$TMP/out.xml" "$TMP/out2.xml"; then ok "the store is unchanged after the rejection"
else not_ok "the store is unchanged after the rejection"; fi

run "$E" customer add --db "$DB" c42 "Jane Doe"
expect_rc "customer add" 0
run "$E" customer add --db "$DB" c42
expect_rc "customer add twice: usage error" 64
run "$E" import --db "$DB" --customer c42 "$TMP/b.xml"
expect_rc "import for a customer" 0
run "$E" customer list --db "$DB" --format json
expect_match "customer list json" "$OUT" '"id": "c42", "name": "Jane Doe", "usage_points": 1'
run "$E" export --db "$DB" --customer c42 -o "$TMP/c42.xml"
expect_rc "export one customer" 0
run "$E" validate "$TMP/c42.xml"
expect_rc "the customer's export is valid" 0
expect_match "the customer's export holds only their readings" "$OUT" " 192 interval readings"

up=$(grep -o 'UsagePoint/[0-9a-f-]*"' "$TMP/a.xml" | head -1 | sed 's/UsagePoint\///; s/"//')
run "$E" export --db "$DB" --usage-point "$up" --from 2024-01-02 --to 2024-01-03 -o "$TMP/up.xml"
expect_rc "export a usage point and a day" 0
run "$E" validate "$TMP/up.xml"
expect_match "one usage point, one day, two flows: 2-4 blocks" "$OUT" " (192|288|384) interval readings"

run "$E" db check --db "$DB" --format json
expect_rc "db check on a sound store" 0
expect_match "db check json" "$OUT" '"ok": true, "problems": 0'
sqlite3 "$TMP/s.db" "UPDATE block SET data = X'0105' WHERE bid = 1" 2>/dev/null || true
if command -v sqlite3 >/dev/null; then
  run "$E" db check --db "$DB"
  expect_rc "db check finds a damaged block: exit 65" 65
  expect_match "db check names the damage" "$OUT" "DAMAGED"
fi

run "$E" import --db "postgresql://nobody@/nowhere?host=$TMP" "$TMP/a.xml"
expect_rc "unreachable PostgreSQL: configuration error" 78
expect_match "unreachable PostgreSQL: says why" "$ERR" "cannot connect to PostgreSQL"
finish
