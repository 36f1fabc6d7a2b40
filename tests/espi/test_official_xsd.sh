#!/bin/bash
# test_official_xsd.sh -- synth feeds pass the official ESPI 4.0 schemas and
# the GBA function-block tests.
#
# Each option combination is written with `espigate synth`, validated with
# ../shared/espi/schemas/validate (xmllint + the official XSDs) and run through
# ../shared/gba-fb-tests/run for the function blocks it claims:
#   01 common, 04 interval metering, 05 electricity interval, 15 usage summary
#   always; 12 cost of interval data and 16 usage summary with cost with --cost;
#   08 forward and reverse with --net.
# FB_07 (net metering) is NOT claimed: its only assert (D074) wants a ReadingType
# with flowDirection 4 (net = forward - reverse); synth's --net writes two
# MeterReadings, forward (1) and reverse (19), which is FB_08.  A last case
# breaks a feed on purpose to prove the harness notices.
set -u
: "${ESPIGATE:?ESPIGATE not set}"
shared=${ESPIGATE_SHARED:-}
skip() { echo "SKIP: $*" >&2; exit 77; }
[ -n "$shared" ] && [ -x "$shared/espi/schemas/validate" ] && [ -x "$shared/gba-fb-tests/run" ] ||
    skip "shared folder with espi/schemas/validate and gba-fb-tests/run not found (ESPIGATE_SHARED=$shared)"
command -v xmllint >/dev/null || skip "xmllint not installed (Debian: libxml2-utils)"
command -v xsltproc >/dev/null || skip "xsltproc not installed (Debian: xsltproc)"
"$ESPIGATE" synth --help 2>/dev/null | grep -q -- '--usage-points' ||
    skip "$ESPIGATE has no synth command (cli/main.c does not dispatch to cmd_synth yet)"

tmp=$(mktemp -d "${ESPIGATE_BUILD:-.}/xsd.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0

# check NAME "FBs" synth-options...
check() {
    local name=$1 fbs=$2
    shift 2
    local feed="$tmp/$name.xml"
    if ! "$ESPIGATE" synth "$@" -o "$feed"; then
        echo "FAIL $name: espigate synth $* exited $?" >&2; fail=1; return
    fi
    if ! "$shared/espi/schemas/validate" "$feed" >"$tmp/$name.log" 2>&1; then
        echo "FAIL $name: official XSD rejects the feed (synth $*):" >&2
        head -20 "$tmp/$name.log" >&2; fail=1
    fi
    # shellcheck disable=SC2086
    if ! "$shared/gba-fb-tests/run" "$feed" $fbs >&2; then
        echo "FAIL $name: GBA function blocks $fbs (synth $*)" >&2; fail=1
    fi
}

check spring   "01 04 05 15"          --days 3 --start 2024-03-09
check cost     "01 04 05 12 15 16"    --days 3 --start 2024-03-09 --cost
check hourly3  "01 04 05 12 15 16"    --usage-points 3 --days 4 --start 2024-11-01 --interval 3600 --cost
check net      "01 04 05 12 15 16 08" --usage-points 1 --days 2 --start 2024-06-20 --net --cost
check netplain "01 04 05 15 08"       --usage-points 2 --days 2 --start 2024-11-02 --net --quality
check months   "01 04 05 15"          --days 40 --start 2024-01-25 --interval 3600 --quality --base-url https://example.org/espi/1_1/resource/

# the harness must be able to fail: drop ServiceCategory/kind (FB_01 D008) and
# put an unknown element in a ReadingType (schema error)
"$ESPIGATE" synth --days 1 --start 2024-03-09 -o "$tmp/broken.xml" || fail=1
sed -e '/<kind>0<\/kind>/d' -e 's#<uom>72</uom>#<uom>72</uom><bogus>1</bogus>#' "$tmp/broken.xml" >"$tmp/broken2.xml"
if "$shared/espi/schemas/validate" "$tmp/broken2.xml" >/dev/null 2>&1; then
    echo "FAIL: the official XSD accepted a feed with a bogus element" >&2; fail=1
fi
if "$shared/gba-fb-tests/run" "$tmp/broken2.xml" 01 >/dev/null 2>&1; then
    echo "FAIL: FB_01 accepted a UsagePoint without ServiceCategory/kind" >&2; fail=1
fi
exit $fail
