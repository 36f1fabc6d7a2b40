#!/usr/bin/env bash
# test_render_golden.sh -- `espigate render` output equals the reviewed goldens:
# samples/render/<name>.expected.html for small.xml (committed) and the shared
# GBA samples gba_15minLP_15Days and gba_Gas (../shared; skipped when absent),
# plus samples/render/small.expected.csv.  Regenerate with
# tests/render/regen-goldens.sh and review the diff.
set -u
: "${ESPIGATE:?}" "${ESPIGATE_SRC:?}" "${ESPIGATE_SHARED:?}"
. "$ESPIGATE_SRC/tests/render/lib.sh"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail=0 ran=0 skipped=()

while IFS='|' read -r name feed; do
  if [ ! -r "$feed" ]; then skipped+=("$name"); continue; fi
  ran=$((ran + 1))
  "$ESPIGATE" render "$feed" -o "$out/$name.html" || { echo "FAIL: render $name exited $?"; fail=1; continue; }
  if ! diff -u "$RENDER_GOLDEN_DIR/$name.expected.html" "$out/$name.html" > "$out/$name.diff"; then
    echo "FAIL: $name.html differs from its golden:"; head -40 "$out/$name.diff"; fail=1
  fi
done < <(render_samples)

"$ESPIGATE" render --format csv "$RENDER_GOLDEN_DIR/small.xml" -o "$out/small.csv" || { echo "FAIL: csv exited $?"; fail=1; }
if ! cmp -s "$RENDER_GOLDEN_DIR/small.expected.csv" "$out/small.csv"; then
  echo "FAIL: small.csv differs from its golden:"
  diff -u "$RENDER_GOLDEN_DIR/small.expected.csv" "$out/small.csv" | head -40; fail=1
fi

if [ ${#skipped[@]} -gt 0 ]; then
  echo "note: shared samples absent, not compared: ${skipped[*]} (looked in $ESPIGATE_SHARED/espi/samples)" >&2
fi
[ "$fail" -eq 0 ] && echo "ok: $ran HTML goldens and 1 CSV golden match"
exit "$fail"
