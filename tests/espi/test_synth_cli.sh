#!/bin/bash
# test_synth_cli.sh -- `espigate synth` options and exit statuses.
set -u
: "${ESPIGATE:?ESPIGATE not set}"
"$ESPIGATE" synth --help 2>/dev/null | grep -q -- '--usage-points' ||
    { echo "SKIP: $ESPIGATE has no synth command (cli/main.c does not dispatch to cmd_synth yet)" >&2; exit 77; }
tmp=$(mktemp -d "${ESPIGATE_BUILD:-.}/synthcli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
expect() { # expect STATUS STDERR-PATTERN args...
    local want=$1 pat=$2; shift 2
    "$ESPIGATE" synth "$@" >"$tmp/out" 2>"$tmp/err"
    local got=$?
    if [ "$got" != "$want" ]; then echo "FAIL: synth $* exited $got, expected $want" >&2; fail=1; fi
    if [ -n "$pat" ] && ! grep -q -- "$pat" "$tmp/err"; then
        echo "FAIL: synth $*: stderr lacks '$pat':" >&2; cat "$tmp/err" >&2; fail=1
    fi
}
expect 0 ""                      --help
expect 64 "expected 900 or 3600" --interval 5
expect 64 "2024-03-09"           --start 03/09/2024
expect 64 "1 to 100000"          --usage-points 0
expect 64 "unknown option"       --bogus
expect 64 "needs a value"        --days
expect 64 "unexpected argument"  extra
expect 64 "http"                 --base-url ftp://x
expect 73 "No such file"         --days 1 -o "$tmp/missing/dir/out.xml"
# stdout and -o FILE give the same bytes
"$ESPIGATE" synth --days 1 >"$tmp/a.xml" && "$ESPIGATE" synth --days 1 -o "$tmp/b.xml" &&
    cmp "$tmp/a.xml" "$tmp/b.xml" || { echo "FAIL: stdout and -o differ" >&2; fail=1; }
grep -q '<feed xmlns="http://www.w3.org/2005/Atom">' "$tmp/a.xml" || { echo "FAIL: no feed element" >&2; fail=1; }
ls "$tmp"/b.xml.* >/dev/null 2>&1 && { echo "FAIL: temporary file left behind" >&2; fail=1; }
exit $fail
