#!/bin/bash
# test_edi867_cli.sh -- X12 867 in and out through the CLI.
#
#  - each samples/edi867/<name>.x12 translates (--tz America/Chicago) to its
#    golden <name>.expected.xml, byte for byte, and validates; the kWh per
#    channel summed from the feed's IntervalReadings equal samples/edi867/README.md;
#  - round trip: the shipped SMT fall-back golden -> import -> export --format
#    edi867 -> translate --from edi867 gives the same readings (start,
#    duration, value), the same estimated flags and the same totals per
#    channel; the 867 has correct envelopes (re-read by the translator) and
#    deterministic control numbers; the same store exports the same bytes;
#  - malformed interchanges (bad SE count, wrong separator, truncated
#    segment) exit 65 with "file:segment N (SEG)" and write nothing; a failed
#    export leaves no file.
set -u
: "${ESPIGATE:?ESPIGATE not set}" "${ESPIGATE_SRC:?ESPIGATE_SRC not set}"
skip() { echo "SKIP: $*" >&2; exit 77; }
"$ESPIGATE" translate --help 2>/dev/null | grep -q -- '--from' || skip "$ESPIGATE has no translate command"
command -v python3 >/dev/null || skip "python3 not installed (sums need it)"
. "$ESPIGATE_SRC/tests/cli/lib.sh"

samples=$ESPIGATE_SRC/samples/edi867
tz=America/Chicago

# readings FEED: one line per IntervalReading "FLOW LEN START DURATION VALUE QUALITIES"
readings() {
    python3 - "$1" <<'PY'
import sys, xml.etree.ElementTree as ET
A, E = "{http://www.w3.org/2005/Atom}", "{http://naesb.org/espi}"
root = ET.parse(sys.argv[1]).getroot()
rt = {}   # ReadingType self href -> (flow, intervalLength)
mr = {}   # MeterReading self href -> ReadingType href
blocks = []
for e in root.iter(A + "entry"):
    links = {l.get("rel"): l.get("href") for l in e.findall(A + "link") if l.get("rel") != "related"}
    rel = [l.get("href") for l in e.findall(A + "link") if l.get("rel") == "related"]
    c = e.find(A + "content")
    for x in c:
        if x.tag == E + "ReadingType":
            rt[links["self"]] = (x.findtext(E + "flowDirection"), x.findtext(E + "intervalLength"))
        elif x.tag == E + "MeterReading":
            mr[links["self"]] = [h for h in rel if "/ReadingType/" in h][0]
        elif x.tag == E + "IntervalBlock":
            blocks.append((links["up"], x))
for up, b in blocks:
    flow, ln = rt[mr[up[: -len("/IntervalBlock")]]]
    for r in b.findall(E + "IntervalReading"):
        q = ",".join(sorted(x.findtext(E + "quality") for x in r.findall(E + "ReadingQuality")))
        tp = r.find(E + "timePeriod")
        print(flow, ln, tp.findtext(E + "start"), tp.findtext(E + "duration"), r.findtext(E + "value"), q or "-")
PY
}
# totals FEED: "FLOW LEN total WH readings N estimated N" per channel
totals() {
    readings "$1" | python3 -c '
import sys, collections
t = collections.OrderedDict()
for line in sys.stdin:
    f, l, s, d, v, q = line.split()
    k = (f, l); a = t.setdefault(k, [0, 0, 0])
    a[0] += int(v); a[1] += 1; a[2] += q != "-"
for (f, l), (w, n, e) in sorted(t.items()):
    print(f"flow {f} len {l} total {w} readings {n} estimated {e}")'
}

# ---- goldens and exact totals (samples/edi867/README.md) -------------------------
n=0
for src in "$samples"/*.x12; do
    name=$(basename "$src" .x12)
    run "$ESPIGATE" translate --quiet --tz "$tz" -o "$TMP/$name.xml" "$src"
    expect_rc "translate $name" 0
    if cmp -s "$samples/$name.expected.xml" "$TMP/$name.xml"; then ok "golden $name"
    else not_ok "golden $name" "differs from samples/edi867/$name.expected.xml (if intended: tests/translate/regen-goldens.sh)" \
        "$(diff -u "$samples/$name.expected.xml" "$TMP/$name.xml" | head -20)"; fi
    run "$ESPIGATE" validate "$TMP/$name.xml"
    expect_rc "validate $name" 0
    n=$((n + 1))
done
[ "$n" -eq 3 ] && ok "three 867 samples shipped" || not_ok "three 867 samples shipped" "found $n"

t=$(totals "$TMP/monthly_2023-11_to_2024-01.xml")
want="flow 1 len 2592000 total 6288000 readings 6 estimated 2"
[ "$t" = "$want" ] && ok "monthly: 3049 + 3239 kWh exactly" || not_ok "monthly totals" "$t"
run "$ESPIGATE" translate --summary --tz "$tz" -o "$TMP/s.xml" "$samples/monthly_2023-11_to_2024-01.x12"
expect_match "monthly: 3049 kWh for 10443720000000001" "$ERR$OUT" "10443720000000001 forward billing period\)
  readings in 3, out 3
  kWh in 3049.000, out 3049.000"
expect_match "monthly: 3239 kWh for 10443720000000009" "$ERR$OUT" "kWh in 3239.000, out 3239.000"
grep -c "<UsageSummary" "$TMP/monthly_2023-11_to_2024-01.xml" | grep -qx 6 && ok "monthly: 6 UsageSummaries" || not_ok "monthly: 6 UsageSummaries"
t=$(totals "$TMP/interval_hourly_2023-11-04_to_2023-11-06_fall_dst.xml")
want="flow 1 len 3600 total 89292 readings 73 estimated 2
flow 19 len 3600 total 4196 readings 8 estimated 0"
[ "$t" = "$want" ] && ok "fall: 89.292 + 4.196 kWh, 73 hours (25-hour day)" || not_ok "fall totals" "$t"
t=$(totals "$TMP/interval_15min_2023-03-11_to_2023-03-13_spring_dst.xml")
want="flow 1 len 900 total 130216 readings 276 estimated 4"
[ "$t" = "$want" ] && ok "spring: 130.216 kWh, 276 intervals" || not_ok "spring totals" "$t"

run "$ESPIGATE" translate --quiet --tz "$tz" -o "$TMP/again.xml" "$samples/monthly_2023-11_to_2024-01.x12"
cmp -s "$TMP/again.xml" "$TMP/monthly_2023-11_to_2024-01.xml" && ok "same input, same bytes" || not_ok "same input, same bytes"

# ---- round trip ESPI -> 867 -> ESPI -------------------------------------------------
golden=$ESPIGATE_SRC/samples/smt/IntervalData_2023-11-04_2023-11-06_fall_dst.expected.xml
db=sqlite:$TMP/rt.db
run "$ESPIGATE" import --quiet --db "$db" "$golden"
expect_rc "import the SMT fall-back golden" 0
run "$ESPIGATE" export --db "$db" --format edi867 --control-number 42 --sender COOP --receiver SUPPLIER -o "$TMP/rt.x12"
expect_rc "export --format edi867" 0
head -c 106 "$TMP/rt.x12" | grep -q '^ISA\*00\*          \*00\*          \*ZZ\*COOP           \*ZZ\*SUPPLIER       \*[0-9]\{6\}\*[0-9]\{4\}\*U\*00401\*000000042\*0\*P\*>~$' &&
    ok "ISA fixed width, control number 42" || not_ok "ISA fixed width" "$(head -c 110 "$TMP/rt.x12")"
tail -2 "$TMP/rt.x12" | tr -d '\n' | grep -q '^GE\*2\*42~IEA\*1\*000000042~$' && ok "GE/IEA counts and control numbers" ||
    not_ok "GE/IEA" "$(tail -2 "$TMP/rt.x12")"
run "$ESPIGATE" export --db "$db" --format edi867 --control-number 42 --sender COOP --receiver SUPPLIER -o "$TMP/rt2.x12"
cmp -s "$TMP/rt.x12" "$TMP/rt2.x12" && ok "export is deterministic" || not_ok "export is deterministic"
run "$ESPIGATE" translate --quiet --from edi867 --tz "$tz" -o "$TMP/back.xml" "$TMP/rt.x12"
expect_rc "translate the exported 867 back" 0
readings "$golden" | sort >"$TMP/a"
readings "$TMP/back.xml" | sort >"$TMP/b"
if [ -s "$TMP/a" ] && cmp -s "$TMP/a" "$TMP/b"; then ok "round trip keeps every reading ($(wc -l <"$TMP/a") with qualities)"
else not_ok "round trip readings" "$(diff "$TMP/a" "$TMP/b" | head -10)"; fi
[ "$(totals "$golden")" = "$(totals "$TMP/back.xml")" ] && ok "round trip totals equal: $(totals "$golden" | tr '\n' ';')" ||
    not_ok "round trip totals" "$(totals "$golden")" "$(totals "$TMP/back.xml")"
grep -q 'DTM\*582\*20231105\*0100\*CD~' "$TMP/rt.x12" && grep -q 'DTM\*582\*20231105\*0100\*CS~' "$TMP/rt.x12" &&
    ok "the repeated hour is told apart by CD/CS" || not_ok "CD/CS codes on the fall-back day"

# summaries travel as PTD*SU: the monthly sample through the store and back
db2=sqlite:$TMP/m.db
run "$ESPIGATE" import --quiet --db "$db2" "$TMP/monthly_2023-11_to_2024-01.xml"
run "$ESPIGATE" export --db "$db2" --format edi867 -o "$TMP/m.x12"
expect_rc "export monthly with summaries" 0
[ "$(grep -c '^PTD\*SU~' "$TMP/m.x12")" -eq 6 ] && ok "6 PTD*SU loops" || not_ok "6 PTD*SU loops" "$(grep -c '^PTD\*SU~' "$TMP/m.x12")"
run "$ESPIGATE" translate --quiet --tz "$tz" -o "$TMP/m2.xml" "$TMP/m.x12"
expect_rc "translate monthly back" 0
[ "$(grep -c '<UsageSummary' "$TMP/m2.xml")" -eq 6 ] && ok "6 UsageSummaries after the round trip" || not_ok "UsageSummaries after the round trip"

# ---- malformed interchanges: exit 65, position named, nothing written -----------------
bad() { # NAME SED-EXPR REGEX
    sed "$2" "$samples/monthly_2023-11_to_2024-01.x12" >"$TMP/bad.x12"
    rm -f "$TMP/bad.xml"
    run "$ESPIGATE" translate --tz "$tz" -o "$TMP/bad.xml" "$TMP/bad.x12"
    expect_rc "$1: exit 65" 65
    expect_match "$1: position" "$ERR" "$3"
    [ ! -e "$TMP/bad.xml" ] && ok "$1: nothing written" || not_ok "$1: nothing written"
}
bad "bad SE count" 's/^SE\*22\*0001~/SE\*21\*0001~/' 'bad\.x12:segment 24 \(SE\): SE01 says 21 segments but there are 22'
bad "wrong separator" 's/^PTD\*SU~/PTD|SU~/' 'bad\.x12:segment 6: "PTD\|SU" is not a segment id|segment 6 \(PTD\): "PTD\|SU" is not a segment id'
bad "truncated segment" '$d' 'segment 47 \(GE\): the file ends after this segment, inside an interchange \(expected IEA\)'
bad "ISA not fixed width" '1s/ESPIGATECOOP   /ESPIGATECOOP/' 'segment 1 \(ISA\): found'
printf 'ISA*00*          *00*          *ZZ*X              *ZZ*Y              *231107*1200*U*00401*000000001*0*P*>~\nGS*PT*X*Y*20231107*1200*1*X*004010~\nST*867*0001~\nQTY*QD*1' >"$TMP/trunc.x12"
run "$ESPIGATE" translate --tz "$tz" -o "$TMP/trunc.xml" "$TMP/trunc.x12"
expect_rc "truncated mid-segment: exit 65" 65
expect_match "truncated mid-segment: position" "$ERR" "trunc\.x12:segment 4 \(QTY\): truncated"

# a failed export leaves no file
run "$ESPIGATE" export --db "sqlite:$TMP/empty.db" --format edi867 -o "$TMP/none.x12"
expect_rc "export of an empty store fails" 65
[ ! -e "$TMP/none.x12" ] && ! ls "$TMP"/none.x12.* >/dev/null 2>&1 && ok "failed export leaves nothing" || not_ok "failed export leaves nothing"
run "$ESPIGATE" export --db "$db" --format edi867 --sender 'BAD*ID' -o "$TMP/none.x12"
expect_rc "bad sender id: usage error" 64

finish
