#!/bin/bash
# test_opower_cli.sh -- `espigate translate` end to end on the shipped Opower samples.
#
# Each samples/opower/electric_interval_*.csv is translated with
# --from auto --tz America/New_York and cmp'd with its golden
# <name>.expected.xml (regenerate with tests/translate/regen-goldens.sh); the
# output validates with `espigate validate`, the official ESPI 4.0 XSD
# ($ESPIGATE_SHARED/espi/schemas/validate) and the GBA function blocks 01 04 05
# 12; the feed's kWh and cost totals equal samples/README.md exactly, the DST
# days hold 23 and 25 readings at distinct instants, the estimated rows carry
# quality 8; the same input twice gives identical bytes; --tz is required; a
# bad row exits 65 with file:line and --lenient reports it; a daily gas export
# (FB 10) and an IMPORT/EXPORT export (FB 08) translate into valid feeds.
set -u
: "${ESPIGATE:?ESPIGATE not set}" "${ESPIGATE_SRC:?ESPIGATE_SRC not set}"
skip() { echo "SKIP: $*" >&2; exit 77; }
"$ESPIGATE" translate --help 2>/dev/null | grep -q -- '--from' ||
    skip "$ESPIGATE has no translate command"
command -v python3 >/dev/null || skip "python3 not installed (sums need it)"
. "$ESPIGATE_SRC/tests/cli/lib.sh"

samples=$ESPIGATE_SRC/samples/opower
spring=$samples/electric_interval_2024-03-09_to_2024-03-11.csv
fall=$samples/electric_interval_2024-11-02_to_2024-11-04.csv
shared=${ESPIGATE_SHARED:-}
NY=America/New_York

# ---- goldens ------------------------------------------------------------------------
n=0
for src in "$samples"/electric_interval_*.csv; do
    name=$(basename "$src" .csv)
    run "$ESPIGATE" translate --quiet --from auto --tz $NY -o "$TMP/$name.xml" "$src"
    expect_rc "translate $name" 0
    if cmp -s "$samples/$name.expected.xml" "$TMP/$name.xml"; then ok "golden $name"
    else not_ok "golden $name" "differs from samples/opower/$name.expected.xml (if intended: tests/translate/regen-goldens.sh, review the diff)" \
        "$(diff -u "$samples/$name.expected.xml" "$TMP/$name.xml" | head -20)"; fi
    n=$((n + 1))
done
[ "$n" -eq 2 ] && ok "two Opower interval samples shipped" || not_ok "two Opower interval samples shipped" "found $n"

# ---- extra inputs: daily gas (a DST day of 25 hours) and an IMPORT/EXPORT day ----------------
{
    printf '\xef\xbb\xbfName,JANE Q MEMBER\nAddress,"1 A RD, TOWN ST 00000"\nAccount Number,555\nService,Service 2\n\n'
    printf 'TYPE,DATE,USAGE,UNITS,COST,NOTES\n'
    printf 'Natural gas usage,2024-11-02,1.02,therms,$1.50,\n'
    printf 'Natural gas usage,2024-11-03,2.10,therms,$3.01,\n'
    printf 'Natural gas usage,2024-11-04,0.987,therms,$1.40,* This data was estimated\n'
} >"$TMP/gas.csv"
{
    printf 'Name,JANE Q MEMBER\nAccount Number,555\n\nTYPE,DATE,START TIME,END TIME,IMPORT (kWh),EXPORT (kWh)\n'
    for h in $(seq 0 23); do
        exp=0.00; [ "$h" -ge 10 ] && [ "$h" -le 15 ] && exp=1.25
        printf 'Electric usage,2024-06-01,%d:00,%d:59,0.50,%s\n' "$h" "$h" "$exp"
    done
} >"$TMP/nem.csv"
run "$ESPIGATE" translate -q --tz $NY -o "$TMP/gas.xml" "$TMP/gas.csv"
expect_rc "translate daily gas" 0
run "$ESPIGATE" translate -q --tz $NY -o "$TMP/nem.xml" "$TMP/nem.csv"
expect_rc "translate IMPORT/EXPORT" 0

# ---- validity ---------------------------------------------------------------------------
fbs_of() { # FEED -> the function blocks it claims
    case $(basename "$1") in
    gas.xml) echo "01 04 10 12" ;;
    nem.xml) echo "01 04 05 08" ;;
    *) echo "01 04 05 12" ;;
    esac
}
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
        fbs=$(fbs_of "$f")
        # shellcheck disable=SC2086
        run "$shared/gba-fb-tests/run" "$f" $fbs
        expect_rc "GBA function blocks $fbs $(basename "$f")" 0
    done
else
    echo "note: GBA function-block check skipped (needs ESPIGATE_SHARED with gba-fb-tests/run and xsltproc)"
fi

# ---- exact totals, DST days, estimated rows (samples/README.md) ---------------------------------
# facts FEED: "CHANNEL total VALUE", "CHANNEL cost DOLLARS", "CHANNEL DATE readings N",
# "CHANNEL estimated LOCAL-TIMES", "CHANNEL duplicates N" (VALUE in the ReadingType's unit
# x 10^3: kWh for Wh, therms for thousandths of a therm)
facts() {
    python3 - "$1" <<'PY'
import sys, xml.etree.ElementTree as ET
from collections import Counter
from decimal import Decimal
from datetime import datetime, timezone
from zoneinfo import ZoneInfo
A, E = "{http://www.w3.org/2005/Atom}", "{http://naesb.org/espi}"
zone = ZoneInfo("America/New_York")
entries = ET.parse(sys.argv[1]).getroot().findall(A + "entry")
def links(e, rel): return [l.get("href") for l in e.findall(A + "link") if l.get("rel") == rel]
mr = {}
for e in entries:
    if e.find(A + "content/" + E + "MeterReading") is not None:
        for h in links(e, "related"):
            if h.endswith("/IntervalBlock"): mr[h] = e.findtext(A + "title").replace(" ", "_")
val, cost, days, est, starts = {}, {}, {}, {}, {}
for e in entries:
    for ib in e.findall(A + "content/" + E + "IntervalBlock"):
        t = mr[links(e, "up")[0]]
        for r in ib.findall(E + "IntervalReading"):
            s = int(r.findtext(E + "timePeriod/" + E + "start"))
            local = datetime.fromtimestamp(s, timezone.utc).astimezone(zone)
            val[t] = val.get(t, 0) + int(r.findtext(E + "value"))
            cost[t] = cost.get(t, 0) + int(r.findtext(E + "cost") or 0)
            days.setdefault(t, Counter())[local.strftime("%m/%d")] += 1
            starts.setdefault(t, Counter())[s] += 1
            if r.findtext(E + "ReadingQuality/" + E + "quality") == "8":
                est.setdefault(t, []).append(local.strftime("%m/%d_%H:%M"))
for t in val:
    print(t, "total", Decimal(val[t]).scaleb(-3))
    print(t, "cost", Decimal(cost[t]).scaleb(-5))
    for d, n in sorted(days[t].items()): print(t, d, "readings", n)
    print(t, "estimated", ",".join(est.get(t, [])) or "none")
    print(t, "duplicates", sum(1 for c in starts[t].values() if c > 1))
PY
}
expect_fact() { # FACTS LINE
    if grep -qx -- "$2" <<<"$1"; then ok "$2"
    else not_ok "$2" "facts were:" "$(grep -- "${2%% *}" <<<"$1" | head -12)"; fi
}
c=Opower_9990001234_Electricity_Consumption
S=$(facts "$TMP/electric_interval_2024-03-09_to_2024-03-11.xml")
expect_fact "$S" "$c total 65.450"
expect_fact "$S" "$c cost 9.32000"
expect_fact "$S" "$c 03/09 readings 24"
expect_fact "$S" "$c 03/10 readings 23"
expect_fact "$S" "$c 03/11 readings 24"
expect_fact "$S" "$c estimated 03/11_09:00,03/11_10:00,03/11_11:00,03/11_12:00"
expect_fact "$S" "$c duplicates 0"
F=$(facts "$TMP/electric_interval_2024-11-02_to_2024-11-04.xml")
expect_fact "$F" "$c total 66.800"
expect_fact "$F" "$c cost 9.57000"
expect_fact "$F" "$c 11/03 readings 25"
expect_fact "$F" "$c estimated none"
expect_fact "$F" "$c duplicates 0"
expect_match "73 readings in the fall feed" "$(grep -c '<IntervalReading>' "$TMP/electric_interval_2024-11-02_to_2024-11-04.xml")" '^73$'
G=$(facts "$TMP/gas.xml")
expect_fact "$G" "Opower_555_Gas_Daily total 4.107"
expect_fact "$G" "Opower_555_Gas_Daily cost 5.91000"
expect_fact "$G" "Opower_555_Gas_Daily estimated 11/04_00:00"
expect_match "gas in therms x 10^-3" "$(tr -d ' \n' <"$TMP/gas.xml")" '<powerOfTenMultiplier>-3</powerOfTenMultiplier><uom>169</uom>'
expect_match "gas day of 25 hours" "$(tr -d ' \n' <"$TMP/gas.xml")" '<duration>90000</duration><start>1730606400</start>'
N=$(facts "$TMP/nem.xml")
expect_fact "$N" "Opower_555_Electricity_Consumption total 12.000"
expect_fact "$N" "Opower_555_Electricity_Export total 7.500"
expect_match "export channel is flow 19" "$(cat "$TMP/nem.xml")" '<flowDirection>19</flowDirection>'

# ---- determinism, zone ------------------------------------------------------------------------------
run "$ESPIGATE" translate -q --tz $NY -o "$TMP/again.xml" "$spring"
cmp -s "$TMP/again.xml" "$TMP/electric_interval_2024-03-09_to_2024-03-11.xml" &&
    ok "same input twice: identical bytes" || not_ok "same input twice: identical bytes"
run "$ESPIGATE" translate -q -o "$TMP/notz.xml" "$spring"
expect_rc "no --tz: usage error 64" 64
expect_match "says --tz is required" "$ERR" '--tz ZONE is required'
run "$ESPIGATE" translate -q --tz $NY -o "$TMP/both.xml" "$spring" "$fall"
expect_rc "spring and fall files in one feed" 0
expect_match "one MeterReading for both files" "$(grep -c '<MeterReading ' "$TMP/both.xml")" '^1$'

# ---- bad rows: strict and lenient ---------------------------------------------------------------
sed '10s/,0\.[0-9]*,kWh,/,1;2,kWh,/' "$fall" >"$TMP/bad.csv"
grep -q '1;2' "$TMP/bad.csv" || not_ok "bad.csv was made" "sed changed nothing"
run "$ESPIGATE" translate -q --tz $NY -o "$TMP/bad.xml" "$TMP/bad.csv"
expect_rc "bad row exits 65" 65
expect_match "error names file:line" "$ERR" 'bad\.csv:10: USAGE "1;2" is not a decimal'
[ ! -e "$TMP/bad.xml" ] && ok "no feed from a bad input" || not_ok "no feed from a bad input"
run "$ESPIGATE" translate -q --tz $NY --lenient --summary -o "$TMP/lenient.xml" "$TMP/bad.csv"
expect_rc "--lenient exits 0" 0
expect_match "--summary counts the bad row" "$OUT" 'bad_rows: 1'
expect_match "--summary gives the reason with file:line" "$OUT" 'bad\.csv:10: USAGE "1;2"'
expect_match "--summary readings in/out" "$OUT" 'readings in 72, out 72'

# The billing export: bills -> UsageSummary, one billing-period reading each
bill=$samples/electric_billing_2023-12_to_2024-12.csv
run "$ESPIGATE" translate --quiet --tz $NY -o "$TMP/bill.xml" "$bill"
expect_rc "translate the billing export" 0
if cmp -s "$samples/electric_billing_2023-12_to_2024-12.expected.xml" "$TMP/bill.xml"; then ok "golden billing"
else not_ok "golden billing" "$(diff -u "$samples/electric_billing_2023-12_to_2024-12.expected.xml" "$TMP/bill.xml" | head -20)"; fi
run "$ESPIGATE" validate "$TMP/bill.xml"
expect_rc "the billing feed is valid" 0
n_us=$(grep -c '<UsageSummary ' "$TMP/bill.xml" || true)
[ "$n_us" -eq 12 ] && ok "12 UsageSummary entries" || not_ok "12 UsageSummary entries" "found $n_us"
# exact totals: kWh 8050.66 and $1152.85 (with the -$25.02 credit) in the summaries
totals=$(python3 - "$TMP/bill.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
ns = {"e": "http://naesb.org/espi"}
t = ET.parse(sys.argv[1])
wh = sum(int(m.find("e:value", ns).text) for m in t.iter("{http://naesb.org/espi}overallConsumptionLastPeriod"))
bill = [int(b.text) for b in t.iter("{http://naesb.org/espi}billLastPeriod")]
print(wh, sum(bill), min(bill))
PY
)
[ "$totals" = "8050660 115285000 -2502000" ] && ok "bill totals exact (8050.660 kWh, \$1152.85, credit -\$25.02)" \
    || not_ok "bill totals exact" "got: $totals"
if [ -n "$shared" ] && [ -x "$shared/espi/schemas/validate" ]; then
    "$shared/espi/schemas/validate" "$TMP/bill.xml" >/dev/null 2>&1 && ok "billing feed passes the official XSD" \
        || not_ok "billing feed passes the official XSD"
fi

finish
