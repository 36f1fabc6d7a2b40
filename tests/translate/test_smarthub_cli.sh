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
# twice gives byte-identical output.  The TIME_OF_USE sample gives one channel
# per period (ReadingType tou 1/2/3) whose readings add up to USAGE hour by
# hour; DAILY (two DST weeks) and MONTHLY (with the open period) answers built
# here translate to valid feeds with 23/25-hour days and billing periods.
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
[ "$n" -eq 5 ] && ok "five SmartHub samples shipped" || not_ok "five SmartHub samples shipped" "found $n"

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
    fb poll_hourly_tou 01 04 05
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

# TIME_OF_USE: one channel per period with ReadingType tou, totals exact, and at
# every interval the periods' readings add up to the USAGE reading
T=$(sums "$TMP/poll_hourly_tou.xml")
expect_sum "$T" $h total 28.010; expect_sum "$T" $h readings 24
expect_sum "$T" ${h}_On_Peak total 11.010; expect_sum "$T" ${h}_On_Peak readings 8
expect_sum "$T" ${h}_Off_Peak total 11.820; expect_sum "$T" ${h}_Off_Peak readings 10
expect_sum "$T" ${h}_Super_Off_Pk total 5.180; expect_sum "$T" ${h}_Super_Off_Pk readings 6
expect_match "tou codes 1 2 3 (On, Off, Super Off Peak), USAGE has none" \
    "$(python3 - "$TMP/poll_hourly_tou.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
A, E = "{http://www.w3.org/2005/Atom}", "{http://naesb.org/espi}"
es = ET.parse(sys.argv[1]).getroot().findall(A + "entry")
title = {l.get("href"): e.findtext(A + "title") for e in es if e.find(A + "content/" + E + "MeterReading") is not None
         for l in e.findall(A + "link") if l.get("rel") == "related" and "ReadingType" in l.get("href")}
out = []
for e in es:
    rt = e.find(A + "content/" + E + "ReadingType")
    if rt is None: continue
    self = [l.get("href") for l in e.findall(A + "link") if l.get("rel") == "self"][0]
    out.append("%s=%s" % (title[self].split("Consumption")[1].strip() or "USAGE", rt.findtext(E + "tou") or "-"))
print(" ".join(sorted(out)))
PY
)" '^Off Peak=2 On Peak=1 Super Off Pk=3 USAGE=-$'
expect_match "the periods add up to USAGE at each of the 24 hours" \
    "$(python3 - "$TMP/poll_hourly_tou.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
A, E = "{http://www.w3.org/2005/Atom}", "{http://naesb.org/espi}"
es = ET.parse(sys.argv[1]).getroot().findall(A + "entry")
def links(e, rel): return [l.get("href") for l in e.findall(A + "link") if l.get("rel") == rel]
rt_tou = {links(e, "self")[0]: e.findtext(A + "content/" + E + "ReadingType/" + E + "tou") for e in es
          if e.find(A + "content/" + E + "ReadingType") is not None}
mr = {}
for e in es:
    if e.find(A + "content/" + E + "MeterReading") is not None:
        rt = [h for h in links(e, "related") if "ReadingType" in h][0]
        ib = [h for h in links(e, "related") if h.endswith("/IntervalBlock")][0]
        mr[ib] = rt_tou[rt] is not None
usage, tou = {}, {}
for e in es:
    for ib in e.findall(A + "content/" + E + "IntervalBlock"):
        d = tou if mr[links(e, "up")[0]] else usage
        for r in ib.findall(E + "IntervalReading"):
            k = (r.findtext(E + "timePeriod/" + E + "start"), r.findtext(E + "timePeriod/" + E + "duration"))
            d[k] = d.get(k, 0) + int(r.findtext(E + "value"))
print(len(usage), "hours,", sum(usage[k] != tou.get(k) for k in usage), "differ,", len(set(tou) - set(usage)), "extra")
PY
)" '^24 hours, 0 differ, 0 extra$'

# the CSV download and the JSON poll of the same days: the same (start, duration, value)
readings() { grep -A7 '<IntervalReading>' "$1" | grep -E '^ {12}<(duration|start)>|^ {10}<value>'; }
expect_match "72 readings compared" "$(readings "$TMP/greenbutton_download_hourly.xml" | grep -c value)" '^72$'
if [ "$(readings "$TMP/greenbutton_download_hourly.xml")" = "$(readings "$TMP/poll_hourly_with_cost.xml")" ]; then
    ok "CSV download and JSON poll give the same readings"
else not_ok "CSV download and JSON poll give the same readings"; fi

# ---- DAILY and MONTHLY answers built here --------------------------------------------
# daily.json: two DAILY weeks over the DST changes (2024-03-07..13, 2024-10-31..11-06)
# plus an HOURLY entry of the same meter; monthly.json: three billed periods and
# the open one (end 9999-12-31).  Valid feeds; 23/25-hour days; never mixed; the
# open period dropped with a note.
python3 - "$TMP" <<'PY'
import json, sys, datetime as dt
out = sys.argv[1]
def wall(y, m, d, h=0): return int(dt.datetime(y, m, d, h, tzinfo=dt.timezone.utc).timestamp() * 1000)
def entry(tf, pts, xto):
    return {"type": "USAGE", "timeFrame": tf, "unitOfMeasure": "KWH",
            "meters": [{"meterNumber": "1ND83100245", "seriesId": "1ND83100245", "channel": 1,
                        "flowDirection": "FORWARD", "unitOfMeasure": "KWH"}],
            "series": [{"name": "1ND83100245", "data": [{"x": x, "y": y} for x, y in pts]}],
            "xToOrderedInterval": xto, "estimatedSeries": {}, "editedSeries": {}}
days = [wall(2024, 3, d) for d in range(7, 14)] + [wall(2024, 10, 31)] + [wall(2024, 11, d) for d in range(1, 7)]
pts = [(x, "%d.%d" % (20 + i, i)) for i, x in enumerate(days)]
pts = [(x, float(y)) for x, y in pts]
xto = {str(x): {"interval": {"start": x, "end": x + 86400000}} for x in days}
hours = [(wall(2024, 3, 10, h), 0.5) for h in (0, 1, 3, 4)]
hxto = {str(x): {"interval": {"start": x, "end": x + 3600000}} for x, _ in hours}
json.dump({"status": "COMPLETE", "data": {"ELECTRIC": [entry("HOURLY", hours, hxto), entry("DAILY", pts, xto)]}},
          open(out + "/daily.json", "w"))
starts = [wall(2024, 1, 20), wall(2024, 2, 19), wall(2024, 3, 20), wall(2024, 4, 18)]
ends = starts[1:] + [253402300799000]
names = ["Feb 2024", "Mar 2024", "Apr 2024", "May 2024"]
xto = {str(a): {"interval": {"start": a, "end": b}, "orderedName": n} for a, b, n in zip(starts, ends, names)}
json.dump({"status": "COMPLETE", "data": {"ELECTRIC": [entry("MONTHLY", list(zip(starts, [812.37, 745.2, 690, 118.04])), xto)]}},
          open(out + "/monthly.json", "w"))
PY
for f in daily monthly; do
    run "$ESPIGATE" translate --summary --tz "$tz" -o "$TMP/built_$f.xml" "$TMP/$f.json"
    expect_rc "translate the built $f answer" 0
    [ $f = monthly ] && expect_match "the open billing period is dropped with a note" "$OUT$ERR" \
        'billing period "May 2024" from 2024-04-18 00:00 is still open'
    run "$ESPIGATE" validate "$TMP/built_$f.xml"
    expect_rc "espigate validate built_$f" 0
    if [ -n "$shared" ] && [ -x "$shared/espi/schemas/validate" ] && command -v xmllint >/dev/null; then
        run "$shared/espi/schemas/validate" "$TMP/built_$f.xml"
        expect_rc "official XSD built_$f" 0
    fi
    if [ -n "$shared" ] && [ -x "$shared/gba-fb-tests/run" ] && command -v xsltproc >/dev/null; then
        run "$shared/gba-fb-tests/run" "$TMP/built_$f.xml" 01 04 05
        expect_rc "GBA function blocks 01 04 05 built_$f" 0
    fi
done
D=$(sums "$TMP/built_daily.xml")
expect_sum "$D" ${h}_Daily total 375.960; expect_sum "$D" ${h}_Daily readings 14
expect_sum "$D" $h total 2.000; expect_sum "$D" $h readings 4
expect_sum "$D" ${h}_Daily 03/10 23.300; expect_sum "$D" ${h}_Daily 11/03 30.100
durations() { grep -A1 '<timePeriod>' "$1" | grep -o '<duration>[0-9]*' | sort | uniq -c | tr -s ' ' | tr '\n' ';'; }
expect_match "daily: 12 days of 24 h, one of 23 h, one of 25 h; 4 hourly readings" \
    "$(durations "$TMP/built_daily.xml")" '^ 4 <duration>3600; 1 <duration>82800; 12 <duration>86400; 1 <duration>90000;$'
expect_match "daily and hourly of one meter are two MeterReadings" \
    "$(grep -c '<MeterReading' "$TMP/built_daily.xml")" '^2$'
M=$(sums "$TMP/built_monthly.xml")
expect_sum "$M" ${h}_Monthly total 2247.570; expect_sum "$M" ${h}_Monthly readings 3
expect_match "monthly: billing periods of 30 days, 30 days less the DST hour, 29 days" \
    "$(durations "$TMP/built_monthly.xml")" '^ 1 <duration>2505600; 1 <duration>2588400; 1 <duration>2592000;$'

# ---- determinism -------------------------------------------------------------------
run "$ESPIGATE" translate -q --tz "$tz" -o "$TMP/again.xml" "$samples/poll_multi_meter.json"
cmp -s "$TMP/again.xml" "$TMP/poll_multi_meter.xml" && ok "same input twice: identical bytes" ||
    not_ok "same input twice: identical bytes"
run "$ESPIGATE" translate -q -o "$TMP/nozone.xml" "$samples/poll_hourly_with_cost.json"
expect_rc "SmartHub without --tz is a usage error" 64

finish
