# lib.sh -- shared helpers for the benchmarks (sourced, not run).
# Each benchmark measures espigate and a reference tool on the same input in
# the same run and prints the ratio; no absolute figure is asserted.
: "${ESPIGATE:?set ESPIGATE to the espigate binary}"
: "${ESPIGATE_SHARED:=$(dirname "$0")/../../../shared}"
BENCH_DIR=${BENCH_DIR:-$(mktemp -d /tmp/espigate-bench.XXXXXX)}
trap 'rm -rf "$BENCH_DIR"' EXIT

# measure CMD... -> sets SECS (wall) and RSS_KB (peak resident set) of CMD
measure() {
  /usr/bin/time -o "$BENCH_DIR/time.out" -f '%e %M' "$@" >/dev/null 2>"$BENCH_DIR/stderr.out" ||
    { echo "benchmark command failed: $*" >&2; cat "$BENCH_DIR/stderr.out" >&2; }
  read -r SECS RSS_KB <"$BENCH_DIR/time.out"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }

official_xsd() {
  local d="$ESPIGATE_SHARED/espi/schemas"
  [ -f "$d/espi-4.0/feed.xsd" ] && echo "$d" || true
}
