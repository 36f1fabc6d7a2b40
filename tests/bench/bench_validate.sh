#!/usr/bin/env bash
# bench_validate.sh -- `espigate validate` vs `xmllint --stream --noout --schema <official>`.
#
# Synthetic feeds of one year of 15-minute readings with cost, for BENCH_UPS usage
# points each (default "20 200": ~100 MB and ~1 GB).  Prints time, peak RSS and the
# ratio espigate/xmllint (target <= 1.5), and shows that espigate's RSS does not grow
# with the file.  Not a timed test: nothing here fails on speed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
schemas=$(official_xsd)
[ -n "$schemas" ] || { echo "official schemas not found under $ESPIGATE_SHARED; skipping"; exit 0; }
printf '%-8s %9s %12s %9s %12s %9s %7s\n' ups MB readings xmllint_s espigate_s ratio rss_MB
for ups in ${BENCH_UPS:-20 200}; do
  feed="$BENCH_DIR/feed-$ups.xml"
  "$ESPIGATE" synth --usage-points "$ups" --days 365 --interval 900 --cost -o "$feed"
  bytes=$(stat -c %s "$feed")
  readings=$((ups * 365 * 96))
  measure env XML_CATALOG_FILES="$schemas/catalog.xml" xmllint --nonet --noout --stream \
    --schema "$schemas/espi-4.0/feed.xsd" "$feed"
  x_secs=$SECS
  measure "$ESPIGATE" validate --quiet "$feed"
  e_secs=$SECS e_rss=$RSS_KB
  printf '%-8s %9s %12s %9s %12s %9s %7s\n' "$ups" "$(mb "$bytes")" "$readings" "$x_secs" \
    "$e_secs" "$(ratio "$e_secs" "$x_secs")" "$((e_rss / 1024))"
  rm -f "$feed"
done
