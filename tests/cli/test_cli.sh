#!/usr/bin/env bash
# test_cli.sh -- the command line as a user meets it: help, version, usage
# errors, exit statuses, and `validate` output formats.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

run "$ESPIGATE" --help
expect_rc "--help exits 0" 0
expect_match "--help lists validate" "$OUT" '^  validate '
run "$ESPIGATE" --version
expect_match "--version prints a version" "$OUT" '^espigate [0-9]+\.[0-9]+\.[0-9]+$'
run "$ESPIGATE"
expect_rc "no command is a usage error" 64
run "$ESPIGATE" frobnicate
expect_rc "unknown command exits 64" 64
expect_match "unknown command is named" "$ERR" "'frobnicate' is not a command"
for c in validate synth demo; do
  run "$ESPIGATE" "$c" --help
  expect_rc "$c --help exits 0" 0
  expect_match "$c --help shows usage" "$OUT" "^Usage: espigate $c"
  run "$ESPIGATE" "$c" --no-such-option
  expect_rc "$c with a bad option exits 64" 64
  expect_match "$c bad option says how to get help" "$ERR" "Try 'espigate $c --help'"
done
run "$ESPIGATE" help validate
expect_match "'help validate' shows validate's help" "$OUT" '^Usage: espigate validate'

# validate: statuses
"$ESPIGATE" synth --usage-points 1 --days 2 --start 2024-01-10 --cost -o "$TMP/ok.xml"
run "$ESPIGATE" validate
expect_rc "validate without FEED exits 64" 64
run "$ESPIGATE" validate "$TMP/ok.xml"
expect_rc "a synthetic feed is valid" 0
expect_match "summary line says valid" "$OUT" 'ok\.xml: valid \(.* entries, 192 interval readings, 0 errors'
run "$ESPIGATE" validate "$TMP/missing.xml"
expect_rc "a missing feed exits 66" 66
expect_match "a missing feed is named" "$ERR" 'missing\.xml'
printf 'hello, not xml\n' >"$TMP/text.xml"
run "$ESPIGATE" validate "$TMP/text.xml"
expect_rc "a non-XML file exits 65" 65
expect_match "non-XML gets XML-001 with line:col" "$OUT" 'text\.xml:1:[0-9]+: XML-001: '
sed 's#<kind>0</kind>#<kind>zero</kind>#' "$TMP/ok.xml" >"$TMP/bad.xml"
run "$ESPIGATE" validate "$TMP/bad.xml"
expect_rc "a schema-invalid feed exits 65" 65
expect_match "the bad value is a SCHEMA-003 at its line" "$OUT" "bad\.xml:[0-9]+:([0-9]+:)? SCHEMA-003: "
run "$ESPIGATE" validate "$TMP/ok.xml" "$TMP/missing.xml" "$TMP/bad.xml"
expect_rc "several feeds: the worst status wins" 66
run "$ESPIGATE" validate - <"$TMP/ok.xml"
expect_rc "validate reads stdin as -" 0

# billion laughs: refused, quickly, without expansion
cat >"$TMP/lol.xml" <<'XML'
<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">]>
<feed xmlns="http://www.w3.org/2005/Atom"><title>&lol5;</title></feed>
XML
run timeout 10 "$ESPIGATE" validate "$TMP/lol.xml"
expect_rc "billion laughs exits 65" 65
expect_match "billion laughs is XML-002" "$OUT" 'XML-002'

# formats
run "$ESPIGATE" validate --format json "$TMP/ok.xml" "$TMP/bad.xml"
expect_rc "json: invalid feed still exits 65" 65
if printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["valid"] is False
a, b = d["files"]
assert a["valid"] is True and a["errors"] == 0 and a["interval_readings"] == 192
assert b["valid"] is False and b["diagnostics"][0]["rule"] == "SCHEMA-003"
assert b["diagnostics"][0]["line"] > 0
'; then ok "json output parses and carries verdicts"; else not_ok "json output parses and carries verdicts" "$OUT"; fi
run "$ESPIGATE" validate --format junit "$TMP/ok.xml" "$TMP/bad.xml"
if printf '%s' "$OUT" | xmllint --noout - 2>/dev/null; then ok "junit output is well-formed XML"; else not_ok "junit output is well-formed XML" "$OUT"; fi
expect_match "junit reports the failure" "$OUT" '<failure type="error"'
run "$ESPIGATE" validate --format yaml "$TMP/ok.xml"
expect_rc "unknown format exits 64" 64
run "$ESPIGATE" validate --max-errors 1 --level schema "$TMP/bad.xml"
expect_rc "--level schema still sees schema errors" 65
run "$ESPIGATE" validate --xsd "$TMP/nowhere" "$TMP/ok.xml"
expect_rc "--xsd to a missing path exits 64" 64

# demo: the main job on the shipped samples
run "$ESPIGATE" demo --no-serve --out "$TMP/demo" --samples "$ESPIGATE_SRC/samples"
expect_rc "demo translates and validates every shipped sample" 0
expect_match "demo translated the SMT samples" "$OUT" 'smt/IntervalData_2023-11-04_2023-11-06_fall_dst\.xml +valid'
expect_no_match "demo reports no invalid feed" "$OUT" 'INVALID|FAILED'
[ -s "$TMP/demo/synthetic-month.xml" ] && ok "demo wrote the synthetic month" || not_ok "demo wrote the synthetic month"

finish
