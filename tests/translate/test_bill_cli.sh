#!/bin/bash
# test_bill_cli.sh -- `espigate translate` end to end on samples/coop-bill.
#
# Goldens: the billing history together with its line items
# (billing_history_24mo.expected.xml) and the bill text
# (bill_2025-01-20.layout.expected.xml), both with --tz America/Chicago, are
# cmp'd with fresh translations (regenerate with regen-goldens.sh).  They
# validate with `espigate validate --strict`, the official ESPI 4.0 XSD and
# the GBA function blocks 01 04 05 15 16.  From the feed: 24 UsageSummaries,
# 96,764 kWh in the billing-period readings and in overallConsumption,
# $14,180.00 of billLastPeriod, every costAdditionalLastPeriod = its items'
# sum = billLastPeriod.  A PDF typeset from the bill text at test time
# (text2pdf.py) gives the text's feed byte for byte; inputs in either order
# give the same bytes; bad input exits 65 with file:line, --lenient exits 0.
set -u
: "${ESPIGATE:?ESPIGATE not set}" "${ESPIGATE_SRC:?ESPIGATE_SRC not set}"
skip() { echo "SKIP: $*" >&2; exit 77; }
"$ESPIGATE" translate --help 2>/dev/null | grep -q -- '--from' || skip "no translate command"
command -v python3 >/dev/null || skip "python3 not installed (sums and the test PDF need it)"
. "$ESPIGATE_SRC/tests/cli/lib.sh"

dir=$ESPIGATE_SRC/samples/coop-bill
hist=$dir/billing_history_24mo.csv
items=$dir/billing_line_items_24mo.csv
text=$dir/bill_2025-01-20.layout.txt
shared=${ESPIGATE_SHARED:-}
tz=(--tz America/Chicago)

# ---- goldens ----------------------------------------------------------------------
golden() { # NAME GOLDEN INPUT...
    local name=$1 want=$2
    shift 2
    run "$ESPIGATE" translate --quiet "${tz[@]}" -o "$TMP/$name.xml" "$@"
    expect_rc "translate $name" 0
    if cmp -s "$want" "$TMP/$name.xml"; then ok "golden $name"
    else not_ok "golden $name" "differs from $want (if intended: tests/translate/regen-goldens.sh, review the diff)" \
        "$(diff -u "$want" "$TMP/$name.xml" | head -20)"; fi
}
golden history "$dir/billing_history_24mo.expected.xml" "$hist" "$items"
golden text "$dir/bill_2025-01-20.layout.expected.xml" "$text"

# ---- validity ------------------------------------------------------------------------
for f in "$TMP/history.xml" "$TMP/text.xml"; do
    run "$ESPIGATE" validate --strict "$f"
    expect_rc "espigate validate --strict $(basename "$f")" 0
done
if [ -n "$shared" ] && [ -x "$shared/espi/schemas/validate" ] && command -v xmllint >/dev/null; then
    for f in "$TMP/history.xml" "$TMP/text.xml"; do
        run "$shared/espi/schemas/validate" "$f"
        expect_rc "official XSD $(basename "$f")" 0
    done
else
    echo "note: official XSD check skipped (needs ESPIGATE_SHARED and xmllint)"
fi
if [ -n "$shared" ] && [ -x "$shared/gba-fb-tests/run" ] && command -v xsltproc >/dev/null; then
    for f in "$TMP/history.xml" "$TMP/text.xml"; do
        run "$shared/gba-fb-tests/run" "$f" 01 04 05 15 16
        expect_rc "GBA function blocks 01 04 05 15 16 $(basename "$f")" 0
    done
else
    echo "note: GBA function-block check skipped (needs ESPIGATE_SHARED and xsltproc)"
fi

# ---- exact totals (samples/README.md) ----------------------------------------------------
run python3 - "$TMP/history.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
ns = {"a": "http://www.w3.org/2005/Atom", "e": "http://naesb.org/espi"}
root = ET.parse(sys.argv[1]).getroot()
us = root.findall("a:entry/a:content/e:UsageSummary", ns)
assert len(us) == 24, len(us)
readings = [int(v.text) for v in root.iter("{http://naesb.org/espi}IntervalReading") for v in v.findall("e:value", ns)]
assert len(readings) == 24 and sum(readings) == 96764000, sum(readings)
assert sum(int(u.find("e:overallConsumptionLastPeriod/e:value", ns).text) for u in us) == 96764000
assert sum(int(u.find("e:billLastPeriod", ns).text) for u in us) == 1418000000  # $14,180.00
for u in us:
    items = sum(int(i.text) for i in u.findall("e:costAdditionalDetailLastPeriod/e:amount", ns))
    assert items == int(u.find("e:costAdditionalLastPeriod", ns).text) == int(u.find("e:billLastPeriod", ns).text)
    assert len(u.findall("e:costAdditionalDetailLastPeriod", ns)) == 6
    assert u.find("e:costAdditionalDetailLastPeriod[e:note='Energy Charge']/e:unitCost", ns).text == "8750"
print("ok")
PY
expect_rc "24 bills, 96,764 kWh, \$14,180.00, items = totals" 0

# ---- the same feed from other forms and orders ------------------------------------------------
run "$ESPIGATE" translate --quiet "${tz[@]}" -o "$TMP/rev.xml" "$items" "$hist"
expect_rc "inputs in the other order" 0
cmp -s "$TMP/history.xml" "$TMP/rev.xml" && ok "order of the inputs does not change a byte" ||
    not_ok "order of the inputs does not change a byte"
run python3 "$ESPIGATE_SRC/tests/translate/text2pdf.py" "$text"
if [ "$RC" -eq 0 ]; then
    python3 "$ESPIGATE_SRC/tests/translate/text2pdf.py" "$text" >"$TMP/bill.pdf"
    run "$ESPIGATE" translate "${tz[@]}" -o "$TMP/pdf.xml" "$TMP/bill.pdf"
    if [ "$RC" -eq 78 ]; then
        echo "note: built without poppler-glib; PDF check skipped"
    else
        expect_rc "translate the PDF" 0
        expect_match "detected as bill-pdf" "$ERR" 'bill-pdf'
        cmp -s "$TMP/text.xml" "$TMP/pdf.xml" && ok "the PDF gives the text's feed byte for byte" ||
            not_ok "the PDF gives the text's feed byte for byte" "$(diff "$TMP/text.xml" "$TMP/pdf.xml" | head)"
    fi
else
    not_ok "text2pdf.py makes a PDF" "$ERR"
fi

# ---- refusals ----------------------------------------------------------------------------------
run "$ESPIGATE" translate -o "$TMP/x.xml" "$hist"
expect_rc "no --tz: usage error 64" 64
expect_match "says --tz is required" "$ERR" '--tz ZONE is required'
run "$ESPIGATE" translate "${tz[@]}" -o "$TMP/x.xml" "$items"
expect_rc "line items alone: 65" 65
expect_match "line items alone: no billing period" "$ERR" 'billing_line_items_24mo.csv:2: bill bill:4410078215:2023-02-06 has no billing period'
sed 's/kWh Use: 5123/kWh Use: 5132/' "$text" >"$TMP/bad.txt"
run "$ESPIGATE" translate "${tz[@]}" -o "$TMP/x.xml" "$TMP/bad.txt"
expect_rc "wrong kWh arithmetic: 65" 65
expect_match "wrong kWh arithmetic: file:line" "$ERR" 'bad.txt:23: billed kWh 5132.000 differs'
[ ! -e "$TMP/x.xml" ] && ok "no feed written on error" || not_ok "no feed written on error"
run "$ESPIGATE" translate --lenient --summary "${tz[@]}" -o "$TMP/x.xml" "$TMP/bad.txt"
expect_rc "--lenient keeps the bill: 0" 0
expect_match "--lenient reports the warning" "$OUT" 'warnings: 1'
grep -v 'Current Charges Due' "$text" >"$TMP/nototal.txt"
run "$ESPIGATE" translate "${tz[@]}" -o "$TMP/x.xml" "$TMP/nototal.txt"
expect_rc "missing total: 65" 65
expect_match "missing total: said" "$ERR" 'nototal.txt:[0-9]+: no "Current Charges" total'
printf '%%PDF-1.7\n%%\xe2\xe3\nnot a pdf\n' >"$TMP/junk.pdf"
run "$ESPIGATE" translate "${tz[@]}" -o "$TMP/x.xml" "$TMP/junk.pdf"
if [ "$RC" -ne 78 ]; then
    expect_rc "a broken PDF: 65" 65
    expect_match "a broken PDF: said" "$ERR" 'junk.pdf: not a readable PDF'
fi

finish
