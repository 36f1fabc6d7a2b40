#!/bin/bash
# regen-goldens.sh -- regenerate the golden synthetic feeds in samples/espi/.
#
#   ESPIGATE=build/cli/espigate tests/espi/regen-goldens.sh [OUTDIR]
#
# OUTDIR defaults to samples/espi/ of this checkout.  test_golden.sh runs this
# into a temporary directory and cmp's the result with the committed files, so
# run it only after a deliberate change to the writer or the generator, then
# review `git diff samples/espi/` before committing.  The list below is the
# single source of truth: one line per golden file.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/samples/espi}
espigate=${ESPIGATE:-espigate}
mkdir -p "$out"

# demo.xml: one house, 3 days from 2024-03-09 (includes the spring-forward
# day, 23 hours), 15-minute readings with cost.
"$espigate" synth --usage-points 1 --days 3 --start 2024-03-09 --cost -o "$out/demo.xml"
