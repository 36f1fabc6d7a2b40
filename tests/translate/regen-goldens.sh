#!/bin/bash
# regen-goldens.sh -- regenerate the golden translations samples/<format>/<name>.expected.xml.
#
#   ESPIGATE=build/cli/espigate tests/translate/regen-goldens.sh [OUTDIR]
#
# Every source sample samples/smt/<name>.csv is translated on its own with
# `espigate translate` (default options) into OUTDIR/<name>.expected.xml;
# OUTDIR defaults to samples/smt/ of this checkout.  test_translate_cli.sh
# translates the same files into a temporary directory and cmp's them with
# the committed goldens, so run this only after a deliberate change to a
# translator, the emitter or the writer, then review `git diff samples/`.
# Adding a format = adding its folder to the loop below.  Opower has no zone
# of its own: its interval samples are translated with --tz America/New_York
# (the billing export joins samples/opower/ with the bill -> UsageSummary emission).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
espigate=${ESPIGATE:-espigate}
out=${1:-}

for format in smt; do
    dir=${out:-$root/samples/$format}
    mkdir -p "$dir"
    for src in "$root/samples/$format"/*.csv; do
        name=$(basename "$src" .csv)
        "$espigate" translate --quiet -o "$dir/$name.expected.xml" "$src"
    done
done

# opower: local wall clock without a zone of its own (samples/README.md: New York)
dir=${out:-$root/samples/opower}
mkdir -p "$dir"
for src in "$root/samples/opower"/electric_*.csv; do
    name=$(basename "$src" .csv)
    "$espigate" translate --quiet --from auto --tz America/New_York -o "$dir/$name.expected.xml" "$src"
done

# SmartHub: poll JSON and CSV downloads; local times need the co-op's zone
# (the samples are a co-op in America/Chicago), poll_hourly_tou.json included (its
# TIME_OF_USE channels).  test_smarthub_cli.sh checks them.
dir=${out:-$root/samples/smarthub}
mkdir -p "$dir"
for src in "$root/samples/smarthub"/*.json "$root/samples/smarthub"/*.csv; do
    name=$(basename "$src"); name=${name%.*}
    "$espigate" translate --quiet --tz America/Chicago -o "$dir/$name.expected.xml" "$src"
done

# coop-bill: US Central dates (--tz America/Chicago); the history goes together
# with its line items (one bill = one UsageSummary, merged), the bill text alone.
dir=${out:-$root/samples/coop-bill}
mkdir -p "$dir"
bills=$root/samples/coop-bill
"$espigate" translate --quiet --tz America/Chicago -o "$dir/billing_history_24mo.expected.xml" \
    "$bills/billing_history_24mo.csv" "$bills/billing_line_items_24mo.csv"
"$espigate" translate --quiet --tz America/Chicago -o "$dir/bill_2025-01-20.layout.expected.xml" \
    "$bills/bill_2025-01-20.layout.txt"

# xlsx: co-op spreadsheet exports carry no zone, so they are translated with
# --tz America/Chicago (samples/xlsx/README.md); the inputs themselves come
# from tests/translate/make-xlsx.py.
dir=${out:-$root/samples/xlsx}
mkdir -p "$dir"
for src in "$root/samples/xlsx"/*.xlsx; do
    name=$(basename "$src" .xlsx)
    "$espigate" translate --quiet --tz America/Chicago -o "$dir/$name.expected.xml" "$src"
done

# edi867: synthetic X12 867 interchanges (samples/edi867/make_samples.py writes
# them); their times are US Central (generic CT or explicit CS/CD codes), so
# --tz America/Chicago.  test_edi867_cli.sh checks them.
dir=${out:-$root/samples/edi867}
mkdir -p "$dir"
for src in "$root/samples/edi867"/*.x12; do
    name=$(basename "$src" .x12)
    "$espigate" translate --quiet --tz America/Chicago -o "$dir/$name.expected.xml" "$src"
done
