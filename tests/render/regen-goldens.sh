#!/usr/bin/env bash
# regen-goldens.sh -- rewrite samples/render/*.expected.{html,csv} from the current
# build.  Review `git diff samples/render` before committing: a golden is a claim
# that the page is right.
#   tests/render/regen-goldens.sh [BUILD_DIR]     (default: build)
set -euo pipefail
cd "$(dirname "$0")/../.."
ESPIGATE_SRC=$(pwd)
ESPIGATE_SHARED=${ESPIGATE_SHARED:-$(cd .. && pwd)/shared}
ESPIGATE=${ESPIGATE:-${1:-build}/cli/espigate}
[ -x "$ESPIGATE" ] || { echo "no espigate at $ESPIGATE (build first, or pass BUILD_DIR)" >&2; exit 1; }
. tests/render/lib.sh
while IFS='|' read -r name feed; do
  if [ -r "$feed" ]; then
    "$ESPIGATE" render "$feed" -o "samples/render/$name.expected.html"
    echo "wrote samples/render/$name.expected.html"
  else
    echo "skipped $name: $feed absent" >&2
  fi
done < <(render_samples)
"$ESPIGATE" render --format csv samples/render/small.xml -o samples/render/small.expected.csv
echo "wrote samples/render/small.expected.csv"
