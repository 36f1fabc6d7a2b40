#!/usr/bin/env bash
# bench_writer.sh -- writer throughput vs the rate `xmllint --stream --noout` reads the result.
#
# `espigate synth` streams a feed through espi/writer.c; the reference is xmllint merely
# parsing the same bytes.  Ratio = xmllint read time / espigate write time (target >= 1:
# we write at least as fast as libxml2 can read).  BENCH_UPS usage points (default 100).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ups=${BENCH_UPS:-100}
feed="$BENCH_DIR/w.xml"
measure "$ESPIGATE" synth --usage-points "$ups" --days 365 --interval 900 --cost -o "$feed"
w_secs=$SECS w_rss=$RSS_KB
bytes=$(stat -c %s "$feed")
readings=$((ups * 365 * 96))
measure xmllint --nonet --noout --stream "$feed"
r_secs=$SECS
echo "feed: $(mb "$bytes") MB, $readings readings"
echo "espigate write: ${w_secs}s, $(awk -v n=$readings -v s="$w_secs" 'BEGIN{printf "%.0f", n/s}') readings/s, $(awk -v b=$bytes -v s="$w_secs" 'BEGIN{printf "%.0f", b/1e6/s}') MB/s, peak RSS $((w_rss / 1024)) MB"
echo "xmllint --stream read: ${r_secs}s"
echo "ratio (xmllint read / espigate write): $(ratio "$r_secs" "$w_secs")"
