#!/usr/bin/env bash
# test_chromium.sh -- rendered pages checked in headless Chromium (chromium.mjs):
# title, lang, th headers, captions, charts with visible bars, no console errors,
# no network requests.  Screenshots go to $ESPIGATE_BUILD/render-artifacts/.
# Needs node, Debian's chromium and playwright-core (installed here into the
# project's node_modules with npm when absent).  Exit 77 (skip) when any is
# missing, saying which.
set -u
: "${ESPIGATE:?}" "${ESPIGATE_SRC:?}" "${ESPIGATE_BUILD:?}" "${ESPIGATE_SHARED:?}"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
command -v node >/dev/null || { echo "skip: node is not installed" >&2; exit 77; }
[ -x "$CHROMIUM" ] || { echo "skip: $CHROMIUM absent (apt-get install chromium)" >&2; exit 77; }
if [ ! -d "$ESPIGATE_SRC/node_modules/playwright-core" ]; then
  command -v npm >/dev/null || { echo "skip: npm absent, cannot install playwright-core" >&2; exit 77; }
  (cd "$ESPIGATE_SRC" && npm install --no-save --no-audit --no-fund playwright-core@1 >&2) ||
    { echo "skip: npm install playwright-core@1 failed (offline?)" >&2; exit 77; }
fi
. "$ESPIGATE_SRC/tests/render/lib.sh"
art="$ESPIGATE_BUILD/render-artifacts"
mkdir -p "$art"
pages=()
while IFS='|' read -r name feed; do
  [ -r "$feed" ] || { echo "note: $feed absent, not checked" >&2; continue; }
  "$ESPIGATE" render "$feed" -o "$art/$name.html" || { echo "FAIL: render $name exited $?"; exit 1; }
  pages+=("$art/$name.html")
done < <(render_samples)
CHROMIUM="$CHROMIUM" node "$ESPIGATE_SRC/tests/render/chromium.mjs" "$art" "${pages[@]}"
