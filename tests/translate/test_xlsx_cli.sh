#!/bin/bash
# test_xlsx_cli.sh -- `espigate translate --tz America/Chicago` on the shipped xlsx samples.
#
# Each samples/xlsx/<name>.xlsx (made by tests/translate/make-xlsx.py) is
# translated and cmp'd with its golden <name>.expected.xml (regenerate with
# tests/translate/regen-goldens.sh); the output validates with `espigate
# validate`, the official ESPI 4.0 XSD and GBA function blocks 01 04 05; the
# kWh per meter and local day summed from the IntervalReading values equal
# make-xlsx.py's totals exactly; the fall-back day holds 100 readings, the
# spring-forward day 23 per meter, no instant twice; the committed samples are
# what the generator writes; malformed workbooks exit 65 naming the part.
set -u
: "${ESPIGATE:?ESPIGATE not set}" "${ESPIGATE_SRC:?ESPIGATE_SRC not set}"
skip() { echo "SKIP: $*" >&2; exit 77; }
"$ESPIGATE" translate --help 2>/dev/null | grep -q -- '--from' ||
    skip "$ESPIGATE has no translate command"
command -v python3 >/dev/null || skip "python3 not installed (sums and sample generation need it)"
. "$ESPIGATE_SRC/tests/cli/lib.sh"

samples=$ESPIGATE_SRC/samples/xlsx
fifteen=$samples/interval_15min_2024-11-02_to_2024-11-04.xlsx
hourly=$samples/hourly_text_dates.xlsx
shared=${ESPIGATE_SHARED:-}
TZ_OPT=(--tz America/Chicago)

# ---- the samples are what the generator writes ---------------------------------
run python3 "$ESPIGATE_SRC/tests/translate/make-xlsx.py" "$TMP/gen"
expect_rc "make-xlsx.py runs" 0
# same parts with the same bytes (the zip itself may differ with another zlib)
same_parts() {
    python3 - "$1" "$2" <<'PY'
import sys, zipfile
a, b = (zipfile.ZipFile(p) for p in sys.argv[1:3])
sys.exit(0 if [(i.filename, a.read(i)) for i in a.infolist()] ==
         [(i.filename, b.read(i)) for i in b.infolist()] else 1)
PY
}
for f in "$fifteen" "$hourly"; do
    same_parts "$f" "$TMP/gen/$(basename "$f")" && ok "$(basename "$f") is make-xlsx.py's output" ||
        not_ok "$(basename "$f") is make-xlsx.py's output" "rerun tests/translate/make-xlsx.py and commit"
done

# ---- goldens ----------------------------------------------------------------------
n=0
for src in "$samples"/*.xlsx; do
    name=$(basename "$src" .xlsx)
    run "$ESPIGATE" translate --quiet "${TZ_OPT[@]}" -o "$TMP/$name.xml" "$src"
    expect_rc "translate $name" 0
    if cmp -s "$samples/$name.expected.xml" "$TMP/$name.xml"; then ok "golden $name"
    else not_ok "golden $name" "differs from samples/xlsx/$name.expected.xml (if intended: tests/translate/regen-goldens.sh, review the diff)" \
        "$(diff -u "$samples/$name.expected.xml" "$TMP/$name.xml" | head -20)"; fi
    n=$((n + 1))
done
[ "$n" -eq 2 ] && ok "two xlsx samples shipped" || not_ok "two xlsx samples shipped" "found $n"

# ---- validity ------------------------------------------------------------------------
for f in "$TMP"/interval_15min*.xml "$TMP"/hourly_text_dates.xml; do
    run "$ESPIGATE" validate "$f"
    expect_rc "espigate validate $(basename "$f")" 0
done
if [ -n "$shared" ] && [ -x "$shared/espi/schemas/validate" ] && command -v xmllint >/dev/null; then
    for f in "$TMP"/interval_15min*.xml "$TMP"/hourly_text_dates.xml; do
        run "$shared/espi/schemas/validate" "$f"
        expect_rc "official XSD $(basename "$f")" 0
    done
else
    echo "note: official XSD check skipped (needs ESPIGATE_SHARED with espi/schemas/validate and xmllint)"
fi
if [ -n "$shared" ] && [ -x "$shared/gba-fb-tests/run" ] && command -v xsltproc >/dev/null; then
    for f in "$TMP"/interval_15min*.xml "$TMP"/hourly_text_dates.xml; do
        run "$shared/gba-fb-tests/run" "$f" 01 04 05
        expect_rc "GBA function blocks 01 04 05 $(basename "$f")" 0
    done
else
    echo "note: GBA function-block check skipped (needs ESPIGATE_SHARED with gba-fb-tests/run and xsltproc)"
fi

# ---- exact kWh per meter and local day (make-xlsx.py --totals) ----------------------------
# sums FEED: "TITLE DATE KWH READINGS" per IntervalBlock, "TITLE total KWH READINGS",
# and "instants N distinct D" over all readings of each MeterReading
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
totals, starts = {}, {}
for e in entries:
    for ib in e.findall(A + "content/" + E + "IntervalBlock"):
        title = mr[links(e, "up")[0]]
        start = int(ib.findtext(E + "interval/" + E + "start"))
        day = datetime.fromtimestamp(start, timezone.utc).astimezone(zone).strftime("%m/%d")
        rs = ib.findall(E + "IntervalReading")
        wh = sum(int(r.findtext(E + "value")) for r in rs)
        print(title, day, Decimal(wh).scaleb(-3), len(rs))
        t = totals.setdefault(title, [0, 0]); t[0] += wh; t[1] += len(rs)
        starts.setdefault(title, []).extend(int(r.findtext(E + "timePeriod/" + E + "start")) for r in rs)
for t, (wh, n) in totals.items(): print(t, "total", Decimal(wh).scaleb(-3), n)
for t, s in starts.items(): print(t, "instants", len(s), "distinct", len(set(s)))
PY
}
expect_line() { # SUMS LINE
    if grep -qx -- "$2" <<<"$1"; then ok "$2"; else not_ok "$2" "lines were:" "$(head -20 <<<"$1")"; fi
}
m=Meter_51000123_Consumption
F=$(sums "$TMP/interval_15min_2024-11-02_to_2024-11-04.xml")
expect_line "$F" "$m 11/02 41.836 96"
expect_line "$F" "$m 11/03 41.282 100"
expect_line "$F" "$m 11/04 37.756 96"
expect_line "$F" "$m total 120.874 292"
expect_line "$F" "$m instants 292 distinct 292"
expect_match "4 estimated readings carry ReadingQuality 8" \
    "$(grep -c '<quality>8</quality>' "$TMP/interval_15min_2024-11-02_to_2024-11-04.xml")" '^4$'
a=Meter_80012345_Consumption b=Meter_80067890_Consumption
H=$(sums "$TMP/hourly_text_dates.xml")
expect_line "$H" "$a 03/09 39.028 24"
expect_line "$H" "$a 03/10 34.005 23"
expect_line "$H" "$a 03/11 42.556 24"
expect_line "$H" "$b 03/09 39.716 24"
expect_line "$H" "$b 03/10 37.441 23"
expect_line "$H" "$b 03/11 33.212 24"
expect_line "$H" "$a total 115.589 71"
expect_line "$H" "$b total 110.369 71"
expect_line "$H" "$a instants 71 distinct 71"
expect_line "$H" "$b instants 71 distinct 71"
expect_match "two UsagePoints for two meters" "$(grep -c '<UsagePoint ' "$TMP/hourly_text_dates.xml")" '^2$'

# ---- summary, determinism, detection --------------------------------------------------------
run "$ESPIGATE" translate --quiet "${TZ_OPT[@]}" --summary -o "$TMP/s.xml" "$fifteen"
expect_match "--summary kWh in = out" "$OUT" 'kWh in 120\.874, out 120\.874'
expect_match "--summary counts float-noise roundings" "$OUT" 'estimated 4, rounded 13'
run "$ESPIGATE" translate -q "${TZ_OPT[@]}" -o "$TMP/again.xml" "$fifteen"
cmp -s "$TMP/again.xml" "$TMP/interval_15min_2024-11-02_to_2024-11-04.xml" &&
    ok "same input twice: identical bytes" || not_ok "same input twice: identical bytes"
run "$ESPIGATE" translate -q "${TZ_OPT[@]}" -o "$TMP/stdin.xml" - <"$hourly"
cmp -s "$TMP/stdin.xml" "$TMP/hourly_text_dates.xml" && ok "standard input gives the same feed" ||
    not_ok "standard input gives the same feed" "$ERR"
run "$ESPIGATE" translate -o "$TMP/d.xml" "${TZ_OPT[@]}" "$hourly"
expect_match "detected as xlsx" "$ERR" 'hourly_text_dates\.xlsx: xlsx \('
run "$ESPIGATE" translate -q -o "$TMP/notz.xml" "$hourly"
expect_rc "an xlsx without --tz is a usage error" 64
expect_match "says --tz is required" "$ERR" '--tz ZONE is required'

# ---- malformed workbooks: exit 65 naming the part ----------------------------------------------
python3 - "$TMP" <<'PY'
import struct, sys, zipfile
d = sys.argv[1]
wb = ('<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
      'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
      '<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
rels = ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
def book(path, parts, method=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", method) as z:
        for name, text in parts:
            z.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)), text)
book(d + "/noworkbook.xlsx", [("xl/styles.xml", "<styleSheet/>")])
book(d + "/doctype.xlsx", [("xl/workbook.xml", wb), ("xl/_rels/workbook.xml.rels", rels),
     ("xl/worksheets/sheet1.xml", '<!DOCTYPE x [<!ENTITY e "e">]><worksheet/>')])
book(d + "/bomb.xlsx", [("xl/workbook.xml", wb), ("xl/_rels/workbook.xml.rels", rels),
     ("xl/worksheets/sheet1.xml", "<worksheet/>")], zipfile.ZIP_STORED)
# declare ~4 GiB uncompressed for the sheet, in its local header and the central directory
b = bytearray(open(d + "/bomb.xlsx", "rb").read())
name = b"xl/worksheets/sheet1.xml"
for sig, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
    i = 0
    while (i := b.find(sig, i)) >= 0:
        n_at = 26 if sig == b"PK\x03\x04" else 28
        nl = struct.unpack_from("<H", b, i + n_at)[0]
        off = i + (30 if sig == b"PK\x03\x04" else 46)
        if bytes(b[off:off + nl]) == name:
            struct.pack_into("<I", b, i + size_at, 0xFFFFFFF0)
            struct.pack_into("<H", b, i + (8 if sig == b"PK\x03\x04" else 10), 8)  # deflate
        i += 4
open(d + "/bomb.xlsx", "wb").write(b)
open(d + "/notzip.xlsx", "w").write("Meter Number,Date,kWh\n1,2024-01-01,1\n")
PY
bad() { # NAME FILE REGEX
    run "$ESPIGATE" translate -q --from xlsx "${TZ_OPT[@]}" -o "$TMP/bad.xml" "$2"
    expect_rc "$1 exits 65" 65
    expect_match "$1: says what" "$ERR" "$3"
}
bad "not a zip" "$TMP/notzip.xlsx" 'notzip\.xlsx: is not a zip archive'
bad "zip without a workbook" "$TMP/noworkbook.xlsx" 'noworkbook\.xlsx: xl/workbook\.xml: missing'
bad "a sheet with a DOCTYPE" "$TMP/doctype.xlsx" 'xl/worksheets/sheet1\.xml: has a DOCTYPE'
bad "a zip bomb entry" "$TMP/bomb.xlsx" 'xl/worksheets/sheet1\.xml: declares 4294967280 bytes.*zip bomb'
[ ! -e "$TMP/bad.xml" ] && ok "no feed from a bad workbook" || not_ok "no feed from a bad workbook"

finish
