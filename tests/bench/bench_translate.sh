#!/usr/bin/env bash
# bench_translate.sh -- `espigate translate` vs `xmllint --stream --noout` reading its output.
#
# A synthetic year of 15-minute data for BENCH_METERS meters (default 100), generated
# by gen_sources.py in two source forms: Smart Meter Texas CSV (one file per ESIID)
# and SmartHub poll JSON (one answer per meter and month, as a 30-day-chunked pull
# saves them, one directory per meter).  Each meter is translated to its own
# feed by ONE `translate -O DIR` run over all meters (batch mode: each SMT file,
# each SmartHub meter directory, becomes DIR/<name>.xml), as xmllint then reads
# all the outputs in one run.  The batch runs twice: with -j 1 (one thread, as
# xmllint) and with -j $(nproc) (BENCH_JOBS; feeds on every core, as a user with
# many meters runs it; xmllint has no such option).  Prints readings/s, the
# ratio translate time / xmllint read time of the same output (target <= 1)
# for each, and peak RSS for one month vs one year of all meters (constant in
# the input size).  Not a test.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
meters=${BENCH_METERS:-100}
jobs=${BENCH_JOBS:-$(nproc)}
gen="$(dirname "$0")/gen_sources.py"
printf '%-9s %4s %7s %10s %11s %10s %12s %7s %13s %13s\n' format jobs meters readings translate_s xmllint_s readings/s ratio rss_month_MB rss_year_MB
for fmt in smt smarthub; do
  src="$BENCH_DIR/$fmt" out="$BENCH_DIR/$fmt-out"
  mkdir -p "$out"
  readings=$(python3 "$gen" "$fmt" "$src" --meters "$meters")
  python3 "$gen" "$fmt" "$BENCH_DIR/$fmt-month" --meters 1 --months 1 >/dev/null
  # inputs grouped per meter (SMT: one file each; SmartHub: a directory of 12
  # monthly answers per meter, as a user keeps a pull's files)
  if [ "$fmt" = smarthub ]; then
    for k in $(ls "$src" | sed 's/^poll_\([^_]*\)_.*/\1/' | sort -u); do
      mkdir "$src/$k" && mv "$src"/poll_"$k"_*.json "$src/$k/"
    done
  fi
  measure "$ESPIGATE" translate --quiet --tz America/Chicago -o "$BENCH_DIR/month.xml" "$BENCH_DIR/$fmt-month"/*
  month_rss=$RSS_KB
  for j in $(printf '%s\n' 1 "$jobs" | sort -un); do
    rm -f "$out"/*
    measure "$ESPIGATE" translate --quiet --tz America/Chicago -O "$out" -j "$j" "$src"/*
    t_secs=$SECS max_rss=$RSS_KB
    measure xmllint --nonet --noout --stream "$out"/*.xml
    x_secs=$SECS
    printf '%-9s %4s %7s %10s %11s %10s %12.0f %7s %13s %13s\n' "$fmt" "$j" "$meters" "$readings" "$t_secs" "$x_secs" \
      "$(awk -v n="$readings" -v s="$t_secs" 'BEGIN { print n / s }')" "$(ratio "$t_secs" "$x_secs")" \
      "$((month_rss / 1024))" "$((max_rss / 1024))"
  done
  rm -rf "$src" "$out" "$BENCH_DIR/$fmt-month"
done
