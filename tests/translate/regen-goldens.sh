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
# Adding a format = adding its folder to the loop below.
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

# xlsx: co-op spreadsheet exports carry no zone, so they are translated with
# --tz America/Chicago (samples/xlsx/README.md); the inputs themselves come
# from tests/translate/make-xlsx.py.
dir=${out:-$root/samples/xlsx}
mkdir -p "$dir"
for src in "$root/samples/xlsx"/*.xlsx; do
    name=$(basename "$src" .xlsx)
    "$espigate" translate --quiet --tz America/Chicago -o "$dir/$name.expected.xml" "$src"
done
