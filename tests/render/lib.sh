# lib.sh -- shared by tests/render/*.sh: the samples with render goldens.
# Sourced; needs ESPIGATE_SRC and ESPIGATE_SHARED (set by ctest).
# shellcheck shell=bash
RENDER_GOLDEN_DIR="$ESPIGATE_SRC/samples/render"
# name|feed path: committed sample first, then the shared GBA samples
render_samples() {
  echo "small|$RENDER_GOLDEN_DIR/small.xml"
  local s
  for s in gba_15minLP_15Days gba_Gas; do
    echo "$s|$ESPIGATE_SHARED/espi/samples/$s.xml"
  done
}
