#!/bin/bash
# test_smarthub_cli.sh -- `espigate translate --tz America/Chicago` on the shipped SmartHub samples.
#
# Each samples/smarthub/<name>.json|.csv is translated and cmp'd with its
# golden <name>.expected.xml (regenerate with tests/translate/regen-goldens.sh);
# every output validates with `espigate validate`, the official ESPI 4.0 XSD
# and the GBA function blocks it claims: 01 04 05 for all, 12 (cost of
# interval data) for the single-meter poll answers that carry COST on every
# point, 08 (forward + reverse) for the net-metered multi-meter answer.  The
# multi-meter feed cannot claim 12: SmartHub sends no cost for generation and
# we invent none; the CSV has no cost at all (the harness is shown to fail there).
# The kWh per channel and local day and the cost per channel, summed from the
# IntervalReading values, equal samples/README.md exactly; the CSV download and
# the JSON poll of the same three days give the same readings; the same input
# twice gives byte-identical output.
set -u
: "${ESPIGATE:?ESPIGATE not set}" "${ESPIGATE_SRC:?ESPIGATE_SRC not set}"
skip() { echo "SKIP: $*" >&2; exit 77; }
"$ESPIGATE" translate --help 2>/dev/null | grep -q -- '--from' ||
    skip "$ESPIGATE has no translate command"
command -v python3 >/dev/null || skip "python3 not installed (sums need it)"
. "$ESPIGATE_SRC/tests/cli/lib.sh"

samples=$ESPIGATE_SRC/samples/smarthub
shared=${ESPIGATE_SHARED:-}
tz=America/Chicago

# ---- goldens ------------------------------------------------------------------
n=0
for src in "$samples"/*.json "$samples"/*.csv; do
    name=$(basename "$src"); name=${name%.*}
    run "$ESPIGATE" translate --quiet --tz "$tz" -o "$TMP/$name.xml" "$src"
    expect_rc "translate $name" 0
    if cmp -s "$samples/$name.expected.xml" "$TMP/$name.xml"; then ok "golden $name"
    else not_ok "golden $name" "differs from samples/smarthub/$name.expected.xml (if intended: tests/translate/regen-goldens.sh, review the diff)" \
        "$(diff -u "$samples/$name.expected.xml" "$TMP/$name.xml" | head -20)"; fi
    n=$((n + 1))
done
[ "$n" -eq 4 ] && ok "four SmartHub samples shipped" || not_ok "four SmartHub samples shipped" "found $n"

# ---- validity -------------------------------------------------------------------
for f in "$TMP"/*.xml; do
    run "$ESPIGATE" validate "$f"
    expect_rc "espigate validate $(basename "$f")" 0
done
if [ -n "$shared" ] && [ -x "$shared/espi/schemas/validate" ] && command -v xmllint >/dev/null; then
    for f in "$TMP"/*.xml; do
        run "$shared/espi/schemas/validate" "$f"
        expect_rc "official XSD $(basename "$f")" 0
    done
else
    echo "note: official XSD check skipped (needs ESPIGATE_SHARED with espi/schemas/validate and xmllint)"
fi
if [ -n "$shared" ] && [ -x "$shared/gba-fb-tests/run" ] && command -v xsltproc >/dev/null; then
    fb() { # FILE BLOCKS...
        local f=$1; shift
        run "$shared/gba-fb-tests/run" "$TMP/$f.xml" "$@"
        expect_rc "GBA function blocks $* $f" 0
    }
    fb poll_15min_with_cost 01 04 05 12
    fb poll_hourly_with_cost 01 04 05 12
    fb poll_multi_meter 01 04 05 08
    fb greenbutton_download_hourly 01 04 05
    # the harness can fail: FB_12 wants cost on every reading, the CSV has none
    run "$shared/gba-fb-tests/run" "$TMP/greenbutton_download_hourly.xml" 12
    expect_rc "GBA FB_12 fails on a feed without cost" 1
else
    echo "note: GBA function-block check skipped (needs ESPIGATE_SHARED with gba-fb-tests/run and xsltproc)"
fi

# ---- exact kWh and cost (samples/README.md) ---------------------------------------
# sums FEED: "CHANNEL DATE KWH" per IntervalBlock, "CHANNEL total KWH", "CHANNEL cost USD",
# "CHANNEL readings N" (CHANNEL = MeterReading title with '_' for ' ')
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
mr = {}
for e in entries:
    if e.find(A + "content/" + E + "MeterReading") is not None:
        for h in links(e, "related"):
            if h.endswith("/IntervalBlock"): mr[h] = e.findtext(A + "title").replace(" ", "_")
wh, cost, count = {}, {}, {}
for e in entries:
    for ib in e.findall(A + "content/" + E + "IntervalBlock"):
        t = mr[links(e, "up")[0]]
        start = int(ib.findtext(E + "interval/" + E + "start"))
        day = datetime.fromtimestamp(start, timezone.utc).astimezone(zone).strftime("%m/%d")
        rs = ib.findall(E + "IntervalReading")
        print(t, day, Decimal(sum(int(r.findtext(E + "value")) for r in rs)).scaleb(-3))
        wh[t] = wh.get(t, 0) + sum(int(r.findtext(E + "value")) for r in rs)
        cost[t] = cost.get(t, 0) + sum(int(r.findtext(E + "cost")) for r in rs if r.find(E + "cost") is not None)
        count[t] = count.get(t, 0) + len(rs)
for t in wh:
    print(t, "total", Decimal(wh[t]).scaleb(-3))
    print(t, "cost", Decimal(cost[t]).scaleb(-5))
    print(t, "readings", count[t])
PY
}
expect_sum() { # SUMS CHANNEL WHAT VALUE
    if grep -qx -- "$2 $3 $4" <<<"$1"; then ok "$2 $3 = $4"
    else not_ok "$2 $3 = $4" "sums were:" "$(grep -- "^$2 " <<<"$1")"; fi
}
h=SmartHub_1ND83100245_Consumption
S=$(sums "$TMP/poll_15min_with_cost.xml")
expect_sum "$S" $h total 28.710; expect_sum "$S" $h cost 3.40070; expect_sum "$S" $h readings 95
# 2024-07-15 14:15 CDT = 1721070900: y null, so no reading; 14:00 (1721070000) has one
expect_match "the y-null point stays a gap (no 14:15 reading)" \
    "$(grep -c '<start>1721070900</start>' "$TMP/poll_15min_with_cost.xml")" '^0$'
expect_match "the point before the gap is there" \
    "$(grep -c '<start>1721070000</start>' "$TMP/poll_15min_with_cost.xml")" '^1$'
S=$(sums "$TMP/poll_hourly_with_cost.xml")
expect_sum "$S" $h 01/08 28.010; expect_sum "$S" $h 01/09 26.420; expect_sum "$S" $h 01/10 26.060
expect_sum "$S" $h total 80.490; expect_sum "$S" $h cost 9.53780; expect_sum "$S" $h readings 72
M=$(sums "$TMP/poll_multi_meter.xml")
expect_sum "$M" $h total 30.790; expect_sum "$M" $h cost 3.64840
expect_sum "$M" SmartHub_1ND87654321_Consumption total 6.370
expect_sum "$M" SmartHub_1ND87654321_Consumption cost 0.75500
expect_sum "$M" SmartHub_1ND87654321_Generation total 50.970
expect_sum "$M" SmartHub_1ND87654321_Generation cost 0.00000
expect_match "generation is flowDirection 19" "$(grep -c '<flowDirection>19</flowDirection>' "$TMP/poll_multi_meter.xml")" '^1$'
C=$(sums "$TMP/greenbutton_download_hourly.xml")
c=SmartHub_CSV_7700123456_Consumption
expect_sum "$C" $c 01/08 28.010; expect_sum "$C" $c 01/09 26.420; expect_sum "$C" $c 01/10 26.060
expect_sum "$C" $c total 80.490; expect_sum "$C" $c readings 72

# the CSV download and the JSON poll of the same days: the same (start, duration, value)
readings() { grep -A7 '<IntervalReading>' "$1" | grep -E '^ {12}<(duration|start)>|^ {10}<value>'; }
expect_match "72 readings compared" "$(readings "$TMP/greenbutton_download_hourly.xml" | grep -c value)" '^72$'
if [ "$(readings "$TMP/greenbutton_download_hourly.xml")" = "$(readings "$TMP/poll_hourly_with_cost.xml")" ]; then
    ok "CSV download and JSON poll give the same readings"
else not_ok "CSV download and JSON poll give the same readings"; fi

# ---- determinism -------------------------------------------------------------------
run "$ESPIGATE" translate -q --tz "$tz" -o "$TMP/again.xml" "$samples/poll_multi_meter.json"
cmp -s "$TMP/again.xml" "$TMP/poll_multi_meter.xml" && ok "same input twice: identical bytes" ||
    not_ok "same input twice: identical bytes"
run "$ESPIGATE" translate -q -o "$TMP/nozone.xml" "$samples/poll_hourly_with_cost.json"
expect_rc "SmartHub without --tz is a usage error" 64

finish
