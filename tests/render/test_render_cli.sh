#!/usr/bin/env bash
# test_render_cli.sh -- `espigate render` behaviour through the CLI: hostile text
# escaped, exit statuses, atomic -o, stdin, CSV exact values, the day-row limit.
set -u
: "${ESPIGATE:?}" "${ESPIGATE_SRC:?}"
small="$ESPIGATE_SRC/samples/render/small.xml"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail=0
check() { # description, command...
  local what=$1; shift
  if "$@"; then :; else echo "FAIL: $what"; fail=1; fi
}
status() { # expected-status description command...
  local want=$1 what=$2; shift 2
  "$@" > "$t/stdout" 2> "$t/stderr"; local got=$?
  [ "$got" -eq "$want" ] || { echo "FAIL: $what: exit $got, want $want"; cat "$t/stderr"; fail=1; }
}

# hostile text from the feed and from --title comes out escaped
status 0 "render small" "$ESPIGATE" render "$small" -o "$t/p.html" --title 'Q1 & <script>alert(9)</script>'
check "no <script element" bash -c "! grep -qi '<script' '$t/p.html'"
check "title escaped" grep -qF '<title>Q1 &amp; &lt;script&gt;alert(9)&lt;/script&gt; - Green Button report</title>' "$t/p.html"
check "feed title escaped" grep -qF 'Smith &amp; Sons &lt;script&gt;alert(1)&lt;/script&gt;' "$t/p.html"
check "line item note escaped" grep -qF 'Energy &amp; delivery &lt;script&gt;alert(3)&lt;/script&gt;' "$t/p.html"
check "no external resources" bash -c "! grep -Eq '(src|href)=\"(https?:)?//' '$t/p.html'"
check "DST day marked" grep -qF '23-hour day' "$t/p.html"
check "net metering shown" grep -qF 'Net metering: import and export' "$t/p.html"

# statuses: help 0, usage 64, missing 66, not XML 65 with file:line:col
status 0 "--help" "$ESPIGATE" render --help
check "help mentions csv" grep -q -- '--format FMT' "$t/stdout"
status 64 "no FEED" "$ESPIGATE" render
status 64 "bad format" "$ESPIGATE" render --format pdf "$small"
status 66 "missing feed" "$ESPIGATE" render "$t/nope.xml"
printf '<feed xmlns="http://www.w3.org/2005/Atom">\n  <entry>\n</feed>\n' > "$t/bad.xml"
status 65 "malformed feed" "$ESPIGATE" render "$t/bad.xml" -o "$t/bad.html"
check "error has file:line" grep -Eq 'bad\.xml:[0-9]+' "$t/stderr"
check "no partial output" test ! -e "$t/bad.html"
check "no temp left" bash -c "! ls '$t' | grep -q 'bad.html.'"

# stdin, and '-o -'
status 0 "stdin" bash -c "'$ESPIGATE' render - < '$small' > '$t/stdin.html'"
check "stdin page says so" grep -qF 'standard input' "$t/stdin.html"

# CSV: header, one row per reading, exact decimals, local time with offset
status 0 "csv" "$ESPIGATE" render --format csv "$small" -o "$t/s.csv"
check "csv header" bash -c "head -1 '$t/s.csv' | grep -q '^usage_point,meter_reading,reading_type,start_utc,start_local,duration_s,value,unit,cost,currency,quality'"
rows=$(($(wc -l < "$t/s.csv") - 1))
check "csv has 141 rows (70 + 71 readings), got $rows" test "$rows" -eq 141
check "csv spring-forward row" grep -qF '2024-03-10T07:00:00Z,2024-03-10T03:00:00-04:00,3600,' "$t/s.csv"
check "csv estimated quality" grep -qF 'estimated (linear interpolation)' "$t/s.csv"

exit "$fail"
