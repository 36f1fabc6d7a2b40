#!/bin/bash
# test_golden.sh -- the committed golden feeds are what the code writes today.
# Regenerates them with regen-goldens.sh into a temporary directory and cmp's
# each against samples/espi/.  On a deliberate change, rerun regen-goldens.sh
# and review the diff.
set -u
: "${ESPIGATE:?ESPIGATE not set}" "${ESPIGATE_SRC:?ESPIGATE_SRC not set}"
if ! "$ESPIGATE" synth --help 2>/dev/null | grep -q -- '--usage-points'; then
    echo "SKIP: $ESPIGATE has no synth command (cli/main.c does not dispatch to cmd_synth yet)" >&2
    exit 77
fi
tmp=$(mktemp -d "${ESPIGATE_BUILD:-.}/golden.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
ESPIGATE="$ESPIGATE" bash "$ESPIGATE_SRC/tests/espi/regen-goldens.sh" "$tmp" || { echo "FAIL: regen-goldens.sh failed" >&2; exit 1; }
fail=0 n=0
for f in "$tmp"/*.xml; do
    n=$((n + 1))
    want="$ESPIGATE_SRC/samples/espi/$(basename "$f")"
    if ! cmp "$want" "$f"; then
        echo "FAIL: $(basename "$f") differs from samples/espi/ (diff -u $want $f; if intended, rerun tests/espi/regen-goldens.sh)" >&2
        diff -u "$want" "$f" | head -40 >&2
        fail=1
    fi
done
[ "$n" -gt 0 ] || { echo "FAIL: regen-goldens.sh wrote no golden file" >&2; exit 1; }
exit $fail
