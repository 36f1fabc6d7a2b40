#!/usr/bin/env bash
# bench_store.sh -- the feed store: import rate, size on disk, export time, PostgreSQL beside SQLite.
#
# A synthetic year of 15-minute readings for BENCH_UPS meters (default 1000: 35 million
# readings; the feed is several GB, so BENCH_UPS=100 is a quicker look), written compact.
# Every figure is measured in this run and printed beside its reference:
#   - espigate import into SQLite (validation included: it is one pass) vs the sqlite3
#     shell's `.import` of the same readings as a plain CSV table (no validation, no index);
#   - bytes per reading of the SQLite store on disk, indexes included (target <= 6), vs
#     the plain CSV table's;
#   - espigate export of the whole store vs `xmllint --stream --noout` merely reading the
#     exported file;
#   - espigate import into a throw-away PostgreSQL 15 (tests/feeds/pgtmp.sh) when installed.
# Not a test: nothing is asserted; targets are printed for the reader to judge.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/../.." && pwd)
ups=${BENCH_UPS:-1000}
feed="$BENCH_DIR/year.xml"
db="$BENCH_DIR/store.db"
# lib.sh's measure() sends time's own report to /dev/null with the command's stderr;
# this one writes it to a file (-o) so SECS and RSS_KB are filled.
measure() {
  /usr/bin/time -o "$BENCH_DIR/time.out" -f '%e %M' "$@" >/dev/null
  local out; out=$(tail -1 "$BENCH_DIR/time.out")
  SECS=${out% *} RSS_KB=${out#* }
}
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "inf" }'; }

echo "== synthetic feed: $ups meters x 365 days x 96 readings"
measure "$ESPIGATE" synth --usage-points "$ups" --days 365 --interval 900 --compact -o "$feed"
bytes=$(stat -c %s "$feed")
readings=$("$ESPIGATE" validate --level schema "$feed" | sed -n 's/.*entries, \([0-9]*\) interval readings.*/\1/p')
echo "feed: $(mb "$bytes") MB, $readings readings (synth ${SECS}s)"

echo "== import into SQLite (one validating pass, one transaction)"
measure "$ESPIGATE" import -q --db "sqlite:$db" "$feed"
imp_secs=$SECS imp_rss=$RSS_KB
sqlite3 "$db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
db_bytes=$(stat -c %s "$db")
echo "espigate import: ${imp_secs}s, $(rate "$readings" "$imp_secs") readings/s (target >= 1000000), peak RSS $((imp_rss / 1024)) MB"
echo "store size: $(mb "$db_bytes") MB, $(awk -v b="$db_bytes" -v n="$readings" 'BEGIN{printf "%.2f", b/n}') bytes/reading with indexes (target <= 6)"

echo "== reference: the same readings as CSV, sqlite3 .import"
csv="$BENCH_DIR/readings.csv"
python3 - "$feed" "$csv" <<'PY'
import re, sys
# one row per IntervalReading: block number, start, duration, value, cost
rd = re.compile(rb"<IntervalReading>(?:<cost>(-?\d+)</cost>)?.*?<timePeriod><duration>(\d+)</duration><start>(-?\d+)</start></timePeriod><value>(-?\d+)</value>", re.S)
blk = re.compile(rb"<IntervalBlock")
n = 0
with open(sys.argv[1], "rb") as f, open(sys.argv[2], "wb") as out:
    rest, block = b"", 0
    while True:
        chunk = f.read(1 << 24)
        buf = rest + chunk
        cut = buf.rfind(b"</IntervalReading>") + len(b"</IntervalReading>") if chunk else len(buf)
        if cut < len(b"</IntervalReading>"): cut = 0 if chunk else len(buf)
        part, rest = buf[:cut], buf[cut:]
        pos = 0
        for m in rd.finditer(part):
            block += len(blk.findall(part, pos, m.start()))
            pos = m.start()
            out.write(b"%d,%s,%s,%s,%s\n" % (block, m.group(3), m.group(2), m.group(4), m.group(1) or b""))
            n += 1
        if not chunk: break
print(n, file=sys.stderr)
PY
csvdb="$BENCH_DIR/csv.db"
sqlite3 "$csvdb" "CREATE TABLE r(block INTEGER, start INTEGER, duration INTEGER, value INTEGER, cost INTEGER);"
measure sqlite3 "$csvdb" -cmd ".mode csv" ".import $csv r"
csv_secs=$SECS
csv_bytes=$(stat -c %s "$csvdb")
echo "sqlite3 .import CSV: ${csv_secs}s, $(rate "$readings" "$csv_secs") readings/s, $(awk -v b="$csv_bytes" -v n="$readings" 'BEGIN{printf "%.2f", b/n}') bytes/reading (no index)"
echo "ratio (espigate import rate / sqlite3 CSV .import rate): $(ratio "$csv_secs" "$imp_secs")"
rm -f "$csv" "$csvdb"

echo "== export the whole store vs xmllint --stream reading the result"
out="$BENCH_DIR/export.xml"
measure "$ESPIGATE" export --compact --db "sqlite:$db" -o "$out"
exp_secs=$SECS exp_rss=$RSS_KB
measure xmllint --nonet --noout --stream "$out"
x_secs=$SECS
cmp -s "$feed" "$out" && same="byte-identical to the input" || same="DIFFERS from the input"
echo "espigate export: ${exp_secs}s, $(rate "$readings" "$exp_secs") readings/s, peak RSS $((exp_rss / 1024)) MB ($same)"
echo "xmllint --stream --noout: ${x_secs}s"
echo "ratio (export time / xmllint read time): $(ratio "$exp_secs" "$x_secs")"
rm -f "$out"

echo "== PostgreSQL 15"
pgdir=$(mktemp -d /tmp/espigate-bpg.XXXXXX)
chmod 755 "$pgdir"
set +e
url=$(bash "$src/tests/feeds/pgtmp.sh" start "$pgdir/c")
pgrc=$?
set -e
if [ $pgrc -ne 0 ]; then
  echo "skipped: no PostgreSQL server (exit $pgrc)"
else
  measure "$ESPIGATE" import -q --db "$url" "$feed"
  pg_secs=$SECS
  echo "espigate import into PostgreSQL: ${pg_secs}s, $(rate "$readings" "$pg_secs") readings/s"
  echo "ratio (PostgreSQL import rate / SQLite import rate): $(ratio "$imp_secs" "$pg_secs")"
  bash "$src/tests/feeds/pgtmp.sh" stop "$pgdir/c"
fi
rm -rf "$pgdir"
