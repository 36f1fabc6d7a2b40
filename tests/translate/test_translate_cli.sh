#!/bin/bash
# test_translate_cli.sh -- `espigate translate` end to end on the shipped SMT samples.
#
# Each samples/smt/<name>.csv is translated and cmp'd with its golden
# <name>.expected.xml (regenerate with tests/translate/regen-goldens.sh); the
# output validates with `espigate validate`, with the official ESPI 4.0 XSD
# ($ESPIGATE_SHARED/espi/schemas/validate) and with the GBA function blocks
# 01 04 05 (+ 08 forward and reverse for the solar ESIID); the kWh per channel
# and per local day, summed from the IntervalReading values, equal the sums in
# samples/README.md exactly; the same input twice, or the inputs in another
# order, gives byte-identical output; a bad row exits 65 with file:line, and
# --lenient exits 0 and reports the skip; unknown content exits 65 naming every
# format tried; a recognised format without a translator exits 69; --summary
# --format json parses and carries the totals.
set -u
: "${ESPIGATE:?ESPIGATE not set}" "${ESPIGATE_SRC:?ESPIGATE_SRC not set}"
skip() { echo "SKIP: $*" >&2; exit 77; }
"$ESPIGATE" translate --help 2>/dev/null | grep -q -- '--from' ||
    skip "$ESPIGATE has no translate command (cli/main.c does not dispatch to cmd_translate)"
command -v python3 >/dev/null || skip "python3 not installed (sums and JSON checks need it)"
. "$ESPIGATE_SRC/tests/cli/lib.sh"

samples=$ESPIGATE_SRC/samples/smt
spring=$samples/IntervalData_2023-03-11_2023-03-13_spring_dst.csv
fall=$samples/IntervalData_2023-11-04_2023-11-06_fall_dst.csv
daily=$samples/DailyMeterUsage_2023-11-01_2023-11-30.csv
shared=${ESPIGATE_SHARED:-}

# ---- goldens ------------------------------------------------------------------
n=0
for src in "$samples"/*.csv; do
    name=$(basename "$src" .csv)
    run "$ESPIGATE" translate --quiet -o "$TMP/$name.xml" "$src"
    expect_rc "translate $name" 0
    if cmp -s "$samples/$name.expected.xml" "$TMP/$name.xml"; then ok "golden $name"
    else not_ok "golden $name" "differs from samples/smt/$name.expected.xml (if intended: tests/translate/regen-goldens.sh, review the diff)" \
        "$(diff -u "$samples/$name.expected.xml" "$TMP/$name.xml" | head -20)"; fi
    n=$((n + 1))
done
[ "$n" -eq 3 ] && ok "three SMT samples shipped" || not_ok "three SMT samples shipped" "found $n"

# ---- validity -------------------------------------------------------------------
if "$ESPIGATE" validate --help >/dev/null 2>&1; then
    for f in "$TMP"/*.xml; do
        run "$ESPIGATE" validate "$f"
        expect_rc "espigate validate $(basename "$f")" 0
    done
else
    echo "note: espigate validate is not available in this build; its check is skipped"
fi
if [ -n "$shared" ] && [ -x "$shared/espi/schemas/validate" ] && command -v xmllint >/dev/null; then
    for f in "$TMP"/*.xml; do
        run "$shared/espi/schemas/validate" "$f"
        expect_rc "official XSD $(basename "$f")" 0
    done
else
    echo "note: official XSD check skipped (needs ESPIGATE_SHARED with espi/schemas/validate and xmllint)"
fi
if [ -n "$shared" ] && [ -x "$shared/gba-fb-tests/run" ] && command -v xsltproc >/dev/null; then
    for f in "$TMP"/*.xml; do
        fbs="01 04 05"
        grep -q '<flowDirection>19</flowDirection>' "$f" && fbs="$fbs 08"
        # shellcheck disable=SC2086
        run "$shared/gba-fb-tests/run" "$f" $fbs
        expect_rc "GBA function blocks $fbs $(basename "$f")" 0
    done
    # the harness can fail: FB_08 on a feed without a reverse channel
    run "$shared/gba-fb-tests/run" "$TMP/DailyMeterUsage_2023-11-01_2023-11-30.xml" 08
    expect_rc "GBA FB_08 fails without a reverse channel" 1
else
    echo "note: GBA function-block check skipped (needs ESPIGATE_SHARED with gba-fb-tests/run and xsltproc)"
fi

# ---- exact kWh per channel and local day (samples/README.md) ------------------------
# sums FEED: prints "CHANNEL-TITLE DATE KWH" per IntervalBlock and "CHANNEL-TITLE total KWH"
sums() {
    python3 - "$1" <<'PY'
import sys, xml.etree.ElementTree as ET
from decimal import Decimal
from datetime import datetime, timezone
from zoneinfo import ZoneInfo
A, E = "{http://www.w3.org/2005/Atom}", "{http://naesb.org/espi}"
zone = ZoneInfo("America/Chicago")
entries = ET.parse(sys.argv[1]).getroot().findall(A + "entry")
def links(e, rel): return [l.get("href") for l in e.findall(A + "link") if l.get("rel") == rel]
mr = {}  # IntervalBlock collection href -> MeterReading title
for e in entries:
    if e.find(A + "content/" + E + "MeterReading") is not None:
        for h in links(e, "related"):
            if h.endswith("/IntervalBlock"): mr[h] = e.findtext(A + "title")
totals = {}
for e in entries:
    for ib in e.findall(A + "content/" + E + "IntervalBlock"):
        title = mr[links(e, "up")[0]]
        start = int(ib.findtext(E + "interval/" + E + "start"))
        day = datetime.fromtimestamp(start, timezone.utc).astimezone(zone).strftime("%m/%d")
        wh = sum(int(r.findtext(E + "value")) for r in ib.findall(E + "IntervalReading"))
        print(title.replace(" ", "_"), day, Decimal(wh).scaleb(-3))
        totals[title] = totals.get(title, 0) + wh
for t, wh in totals.items(): print(t.replace(" ", "_"), "total", Decimal(wh).scaleb(-3))
PY
}
expect_sum() { # FEEDSUMS CHANNEL DAY KWH
    if grep -qx -- "$2 $3 $4" <<<"$1"; then ok "kWh $2 $3 = $4"
    else not_ok "kWh $2 $3 = $4" "sums were:" "$(grep -- "$2 $3 " <<<"$1")"; fi
}
c=SMT_10999990000012345_Consumption s=SMT_10999990000012345_Surplus_Generation
S=$(sums "$TMP/IntervalData_2023-03-11_2023-03-13_spring_dst.xml")
expect_sum "$S" $c 03/11 11.576; expect_sum "$S" $s 03/11 37.502
expect_sum "$S" $c 03/12 10.834; expect_sum "$S" $s 03/12 38.350
expect_sum "$S" $c 03/13 11.222; expect_sum "$S" $s 03/13 38.539
expect_sum "$S" $c total 33.632; expect_sum "$S" $s total 114.391
F=$(sums "$TMP/IntervalData_2023-11-04_2023-11-06_fall_dst.xml")
expect_sum "$F" $c 11/04 10.912; expect_sum "$F" $s 11/04 37.949
expect_sum "$F" $c 11/05 11.323; expect_sum "$F" $s 11/05 37.856
expect_sum "$F" $c 11/06 10.827; expect_sum "$F" $s 11/06 38.238
D=$(sums "$TMP/DailyMeterUsage_2023-11-01_2023-11-30.xml")
expect_sum "$D" SMT_10999990000012345_Daily_Consumption total 641.324
# 92 readings on the spring-forward day, 100 on the fall-back day
expect_match "spring-forward day has 92 readings" \
    "$(grep -c '<IntervalReading>' "$TMP/IntervalData_2023-03-11_2023-03-13_spring_dst.xml")" '^568$'
expect_match "fall-back day has 100 readings" \
    "$(grep -c '<IntervalReading>' "$TMP/IntervalData_2023-11-04_2023-11-06_fall_dst.xml")" '^584$'

# ---- determinism and several inputs ---------------------------------------------------
run "$ESPIGATE" translate -q -o "$TMP/again.xml" "$spring"
cmp -s "$TMP/again.xml" "$TMP/IntervalData_2023-03-11_2023-03-13_spring_dst.xml" &&
    ok "same input twice: identical bytes" || not_ok "same input twice: identical bytes"
run "$ESPIGATE" translate -q -o "$TMP/ab.xml" "$spring" "$fall" "$daily"
expect_rc "three inputs into one feed" 0
run "$ESPIGATE" translate -q -o "$TMP/ba.xml" "$daily" "$fall" "$spring"
cmp -s "$TMP/ab.xml" "$TMP/ba.xml" && ok "input order does not change the feed" ||
    not_ok "input order does not change the feed"
expect_match "one UsagePoint for three inputs" "$(grep -c '<UsagePoint ' "$TMP/ab.xml")" '^1$'
expect_match "one LocalTimeParameters" "$(grep -c '<LocalTimeParameters ' "$TMP/ab.xml")" '^1$'
expect_match "three MeterReadings (consumption, surplus, daily)" "$(grep -c '<MeterReading ' "$TMP/ab.xml")" '^3$'
run "$ESPIGATE" translate -q "$spring"
expect_rc "feed to stdout" 0
[ "$OUT" = "$(cat "$TMP/IntervalData_2023-03-11_2023-03-13_spring_dst.xml")" ] &&
    ok "stdout feed equals the file feed" || not_ok "stdout feed equals the file feed"
run "$ESPIGATE" translate -q -o "$TMP/stdin.xml" - <"$spring"
cmp -s "$TMP/stdin.xml" "$TMP/IntervalData_2023-03-11_2023-03-13_spring_dst.xml" &&
    ok "standard input gives the same feed" || not_ok "standard input gives the same feed" "$ERR"
run "$ESPIGATE" translate -q -o "$TMP/twice.xml" "$spring" "$spring"
expect_rc "the same data twice in one feed is refused" 65
expect_match "overlap says one instant" "$ERR" 'one instant'
run "$ESPIGATE" translate -q --usage-point 10999990000012345 -o "$TMP/sel.xml" "$spring"
cmp -s "$TMP/sel.xml" "$TMP/IntervalData_2023-03-11_2023-03-13_spring_dst.xml" &&
    ok "--usage-point ESIID keeps everything of that ESIID" || not_ok "--usage-point ESIID keeps everything of that ESIID" "$ERR"
run "$ESPIGATE" translate -q --usage-point 123 -o "$TMP/none.xml" "$spring"
expect_rc "--usage-point that matches nothing" 65
expect_match "names the usage points found" "$ERR" 'smt:10999990000012345'
[ ! -e "$TMP/none.xml" ] && ok "no output file after a failure" || not_ok "no output file after a failure"

# ---- bad rows: strict and lenient -------------------------------------------------------
sed '5s/,\.[0-9]*,A,/,1;2,A,/' "$spring" >"$TMP/bad.csv"
grep -q '1;2' "$TMP/bad.csv" || not_ok "bad.csv was made" "sed changed nothing"
run "$ESPIGATE" translate -q -o "$TMP/bad.xml" "$TMP/bad.csv"
expect_rc "bad row exits 65" 65
expect_match "error names file:line" "$ERR" 'bad\.csv:5: USAGE_KWH "1;2"'
[ ! -e "$TMP/bad.xml" ] && ok "no feed from a bad input" || not_ok "no feed from a bad input"
run "$ESPIGATE" translate -q --lenient --summary -o "$TMP/lenient.xml" "$TMP/bad.csv"
expect_rc "--lenient exits 0" 0
expect_match "--summary (to stdout with -o FILE) counts the bad row" "$OUT" 'bad_rows: 1'
expect_match "--summary gives the reason with file:line" "$OUT" 'bad\.csv:5: USAGE_KWH "1;2" is not a decimal'
expect_match "--summary readings in/out" "$OUT" 'readings in 283, out 283'
run "$ESPIGATE" translate -q --lenient --summary "$TMP/bad.csv"
expect_match "--summary goes to stderr when the feed is on stdout" "$ERR" 'bad_rows: 1'
expect_no_match "stdout holds only the feed" "$OUT" 'bad_rows'

# ---- --summary --format json ---------------------------------------------------------------
run "$ESPIGATE" translate -q --summary --format json -o "$TMP/j.xml" "$spring" "$fall"
expect_rc "--summary --format json" 0
printf '%s' "$OUT" >"$TMP/summary.json"
run python3 - "$TMP/summary.json" <<'PY'
import json, sys
from decimal import Decimal
s = json.load(open(sys.argv[1]), parse_float=Decimal)
ch = {c["key"]: c for c in s["channels"]}
con, sur = ch["smt:10999990000012345:consumption"], ch["smt:10999990000012345:surplus"]
assert con["kwh_in"] == con["kwh_out"] == Decimal("66.694"), con
assert sur["kwh_in"] == sur["kwh_out"] == Decimal("228.434"), sur
assert con["readings_in"] == con["readings_out"] == 576, con
assert con["dst_blocks"] == 2 and con["estimated_out"] == 10, con
assert s["totals"]["readings_in"] == s["totals"]["readings_out"] == 1152, s["totals"]
assert [i["format"] for i in s["inputs"]] == ["smt", "smt"], s["inputs"]
assert s["inputs"][0]["skipped"]["nonexistent_local_times"] == 8, s["inputs"][0]
print("ok")
PY
expect_rc "summary JSON parses and its totals equal the README sums" 0

# ---- detection ----------------------------------------------------------------------------------
printf 'date,kwh\n2024-01-01,3\n' >"$TMP/mystery.csv"
run "$ESPIGATE" translate "$TMP/mystery.csv"
expect_rc "unknown content exits 65" 65
for f in 'SmartHub usage poll JSON' 'SmartHub Green Button CSV' 'Smart Meter Texas' 'Opower' \
         'bill PDF' 'bill text' 'billing-history CSV' 'xlsx'; do
    expect_match "unknown content: tried $f" "$ERR" "$f"
done
run "$ESPIGATE" translate -q -o "$TMP/x.xml" "$spring"
expect_no_match "--quiet says nothing" "$ERR" '.'
run "$ESPIGATE" translate -o "$TMP/x.xml" "$spring"
expect_match "says what was detected" "$ERR" 'smt \(SMT 15-minute interval CSV'
printf '\xef\xbb\xbfName,A\nAccount Number,1\n\nTYPE,DATE,START TIME,END TIME,USAGE,UNITS,COST,NOTES\nElectric usage,2024-03-09,00:00,00:59,0.45,kWh,$0.13,\n' >"$TMP/op.csv"
run "$ESPIGATE" translate -o "$TMP/op.xml" "$TMP/op.csv"
expect_rc "opower without --tz is a usage error: 64" 64
expect_match "says opower needs --tz" "$ERR" '--tz ZONE is required for .*Opower'
run "$ESPIGATE" translate --tz America/New_York -o "$TMP/op.xml" "$TMP/op.csv"
expect_rc "opower with --tz translates" 0
printf '%%PDF-1.7\n%%\xe2\xe3\n' >"$TMP/bill.pdf"
run "$ESPIGATE" translate --tz America/Chicago -o "$TMP/p.xml" "$TMP/bill.pdf"
expect_match "a broken PDF is recognised as bill-pdf" "$ERR" 'bill-pdf'
# 65: not a readable PDF; 78: built without poppler-glib (no PDF support)
if [ "$RC" -eq 65 ] || [ "$RC" -eq 78 ]; then ok "a broken PDF exits 65 (or 78 without poppler)"
else not_ok "a broken PDF exits 65 (or 78 without poppler)" "exit $RC"; fi
[ ! -e "$TMP/p.xml" ] && ok "a failed translation leaves no output" || not_ok "a failed translation leaves no output"
# detection of every other format (what the detection line says; the exit status
# depends on whether its translator exists yet)
detects() { # NAME FORMAT FILE
    run "$ESPIGATE" translate -o "$TMP/d.xml" "$3"
    expect_match "detects $1 as $2" "$ERR" "/$(basename "$3"): $2 \\("
}
printf '{"status":"COMPLETE","data":{"ELECTRIC":[]}}\n' >"$TMP/poll.json"
detects "SmartHub poll JSON" smarthub "$TMP/poll.json"
printf '\n========\n Usage Information\n For: 1\n Type of readings: Electricity\n Interval Blockdata for period starting:, 2024-01-08 00:00  for 3 days\n' >"$TMP/gb.csv"
detects "SmartHub Green Button CSV" smarthub-csv "$TMP/gb.csv"
printf '   Billing Period: 12/10/2024 - 01/12/2025 for 33 Days\n   kWh Use: 5123\n' >"$TMP/bill.txt"
detects "pdftotext bill" bill-text "$TMP/bill.txt"
printf 'account_number,bill_date,service_from,service_to,kwh_used\n1,2025-01-20,2024-12-10,2025-01-12,5123\n' >"$TMP/hist.csv"
detects "billing history" bill-csv "$TMP/hist.csv"
printf 'PK\003\004\024\000\000\000xl/workbook.xml' >"$TMP/book.xlsx"
detects "xlsx" xlsx "$TMP/book.xlsx"
printf '<?xml version="1.0"?>\n<feed xmlns="http://www.w3.org/2005/Atom"/>\n' >"$TMP/feed.xml"
run "$ESPIGATE" translate "$TMP/feed.xml"
expect_rc "a Green Button feed is not a source: 65" 65
expect_match "says it is already a feed" "$ERR" 'already a Green Button feed'
run "$ESPIGATE" translate "$TMP/does-not-exist.csv"
expect_rc "missing input exits 66" 66
run "$ESPIGATE" translate --from nonsense "$spring"
expect_rc "--from unknown exits 64" 64
run "$ESPIGATE" translate --tz Not/AZone "$spring"
expect_rc "--tz unknown exits 64" 64

# ---- batch mode (-O DIR) -------------------------------------------------------------
# one feed per INPUT file (extension replaced) and per INPUT directory (all its
# files, one feed named after it); byte-identical to the single-feed runs
sh=$ESPIGATE_SRC/samples/smarthub
mkdir -p "$TMP/batch" "$TMP/meterA"
cp "$fall" "$TMP/meterA/"; cp "$spring" "$TMP/meterA/"; touch "$TMP/meterA/.hidden"
run "$ESPIGATE" translate --quiet -O "$TMP/batch" "$spring" "$fall" "$TMP/meterA/"
expect_rc "-O: two files and a directory" 0
for f in "$spring" "$fall"; do
    name=$(basename "$f" .csv)
    cmp -s "$TMP/batch/$name.xml" "$samples/$name.expected.xml" && ok "-O: $name.xml equals its golden" ||
        not_ok "-O: $name.xml equals its golden" "$(ls "$TMP/batch")"
done
run "$ESPIGATE" translate --quiet -o "$TMP/both.xml" "$spring" "$fall"
cmp -s "$TMP/batch/meterA.xml" "$TMP/both.xml" && ok "-O: a directory gives the feed of all its files" ||
    not_ok "-O: a directory gives the feed of all its files"
[ "$(ls -A "$TMP/batch" | wc -l)" -eq 3 ] && ok "-O: three feeds, no temporary files left" ||
    not_ok "-O: three feeds, no temporary files left" "$(ls -A "$TMP/batch")"
run "$ESPIGATE" translate --quiet --summary --format json -O "$TMP/batch" "$spring" "$TMP/meterA"
expect_rc "-O --summary --format json" 0
printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert len(d) == 2 and d[0]["output"].endswith("_spring_dst.xml") and d[1]["output"].endswith("meterA.xml"), d
assert d[1]["totals"]["readings_in"] == d[1]["totals"]["readings_out"] > d[0]["totals"]["readings_out"]
' && ok "-O --summary json: one report per feed" || not_ok "-O --summary json: one report per feed" "$OUT"
printf 'ESIID,USAGE_DATE,REVISION_DATE,USAGE_START_TIME,USAGE_END_TIME,USAGE_KWH,ESTIMATED_ACTUAL,CONSUMPTION_SURPLUSGENERATION\n1,13/45/2023,x,00:00,00:15,1,A,Consumption\n' >"$TMP/bad.csv"
rm -f "$TMP/batch"/*
run "$ESPIGATE" translate --quiet -O "$TMP/batch" "$TMP/bad.csv" "$spring"
expect_rc "-O: a bad input fails with its status (65)" 65
expect_match "-O: the error names the bad file and line" "$ERR" 'bad\.csv:2'
[ -f "$TMP/batch/$(basename "$spring" .csv).xml" ] && [ ! -e "$TMP/batch/bad.xml" ] &&
    [ "$(ls -A "$TMP/batch" | wc -l)" -eq 1 ] && ok "-O: the good feed is written, nothing of the bad one" ||
    not_ok "-O: the good feed is written, nothing of the bad one" "$(ls -A "$TMP/batch")"
cp "$spring" "$TMP/meterA.csv"
run "$ESPIGATE" translate -O "$TMP/batch" "$TMP/meterA" "$TMP/meterA.csv"
expect_rc "-O: two INPUTs with one output name: usage error" 64
run "$ESPIGATE" translate -O "$TMP/batch" -o "$TMP/x.xml" "$spring"
expect_rc "-O with -o: usage error" 64
run "$ESPIGATE" translate -O "$TMP/nodir" "$spring"
expect_rc "-O to a missing directory: usage error" 64
mkdir -p "$TMP/empty"
run "$ESPIGATE" translate -O "$TMP/batch" "$TMP/empty"
expect_rc "-O: an empty directory INPUT exits 66" 66
run "$ESPIGATE" translate -O "$TMP/batch" - <"$spring"
expect_rc "-O: standard input is refused" 64

# more feeds than one commit round (16): every one complete, no temporary file left
mkdir -p "$TMP/many" "$TMP/many-out"
for i in $(seq 1 18); do cp "$spring" "$TMP/many/m$i.csv"; done
run "$ESPIGATE" translate --quiet -O "$TMP/many-out" "$TMP/many"/*.csv
expect_rc "-O: 18 feeds" 0
same=0; for i in $(seq 1 18); do cmp -s "$TMP/many-out/m$i.xml" "$samples/$(basename "$spring" .csv).expected.xml" && same=$((same + 1)); done
[ "$same" -eq 18 ] && [ "$(ls -A "$TMP/many-out" | wc -l)" -eq 18 ] && ok "-O: 18 feeds complete (two commit rounds)" ||
    not_ok "-O: 18 feeds complete (two commit rounds)" "$same equal; $(ls -A "$TMP/many-out" | head -3)"

# -j: feeds on several threads give the same files and the same summaries, in input order
run "$ESPIGATE" translate --quiet --summary --format json -O "$TMP/many-out" "$TMP/many"/*.csv "$TMP/meterA"
expect_rc "-O -j 1 with summaries" 0
SUM1=$OUT
mkdir -p "$TMP/many-j"
run "$ESPIGATE" translate --quiet --summary --format json -O "$TMP/many-j" -j 4 "$TMP/many"/*.csv "$TMP/meterA"
expect_rc "-O -j 4: 19 feeds on 4 threads" 0
same=0; for f in "$TMP/many-out"/*.xml; do cmp -s "$f" "$TMP/many-j/$(basename "$f")" && same=$((same + 1)); done
[ "$same" -eq 19 ] && [ "$(ls -A "$TMP/many-j" | wc -l)" -eq 19 ] && ok "-j 4: the same 19 feeds as -j 1" ||
    not_ok "-j 4: the same 19 feeds as -j 1" "$same equal; $(ls -A "$TMP/many-j" | head -3)"
[ "$(printf '%s' "$OUT" | sed "s#$TMP/many-j#D#")" = "$(printf '%s' "$SUM1" | sed "s#$TMP/many-out#D#")" ] &&
    ok "-j 4: the summary array is the same, in input order" ||
    not_ok "-j 4: the summary array is the same, in input order" "$(printf '%s' "$OUT" | head -5)"
rm -f "$TMP/many-j"/*
run "$ESPIGATE" translate --quiet --summary --format json -O "$TMP/many-j" -j 3 "$TMP/many"/m1.csv "$TMP/bad.csv" "$TMP/many"/m2.csv
expect_rc "-j 3: a bad input among good ones fails with its status (65)" 65
printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert len(d) == 3 and d[1] is None and d[0]["output"].endswith("m1.xml") and d[2]["output"].endswith("m2.xml"), d
' && [ "$(ls -A "$TMP/many-j" | wc -l)" -eq 2 ] && ok "-j 3: null for the bad feed, the two good ones written" ||
    not_ok "-j 3: null for the bad feed, the two good ones written" "$OUT $(ls -A "$TMP/many-j")"
run "$ESPIGATE" translate -j 2 -o "$TMP/x.xml" "$spring"
expect_rc "--jobs without -O: usage error" 64
run "$ESPIGATE" translate -j 0 -O "$TMP/many-j" "$spring"
expect_rc "-j 0: usage error" 64
expect_match "-j 0: the message says the range" "$ERR" 'from 1 to 64'

finish
