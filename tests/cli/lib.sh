# lib.sh -- tiny assertion helpers for end-to-end tests through the CLI (sourced).
# Every check prints "ok - NAME" or "not ok - NAME" (with what was seen), and
# finish() prints "N passed, N failed" and exits nonzero when anything failed.
: "${ESPIGATE:?ESPIGATE must point at the espigate binary}"
T_PASS=0 T_FAIL=0
TMP=$(mktemp -d /tmp/espigate-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

ok() { T_PASS=$((T_PASS + 1)); echo "ok - $1"; }
not_ok() { T_FAIL=$((T_FAIL + 1)); echo "not ok - $1"; shift; [ $# -gt 0 ] && printf '  %s\n' "$@"; return 0; }

# run CMD... : capture status in RC, stdout in OUT, stderr in ERR
run() {
  set +e
  "$@" >"$TMP/out" 2>"$TMP/err"
  RC=$?
  set -e
  OUT=$(cat "$TMP/out") ERR=$(cat "$TMP/err")
}

expect_rc() { # NAME WANT
  if [ "$RC" -eq "$2" ]; then ok "$1"; else not_ok "$1" "exit $RC, wanted $2" "stdout: ${OUT:0:400}" "stderr: ${ERR:0:400}"; fi
}
expect_match() { # NAME TEXT REGEX
  if printf '%s' "$2" | grep -Eq -- "$3"; then ok "$1"; else not_ok "$1" "no match for /$3/ in: ${2:0:600}"; fi
}
expect_no_match() { # NAME TEXT REGEX
  if printf '%s' "$2" | grep -Eq -- "$3"; then not_ok "$1" "unexpected /$3/ in: ${2:0:600}"; else ok "$1"; fi
}
finish() {
  echo "$T_PASS passed, $T_FAIL failed"
  [ "$T_FAIL" -eq 0 ]
}
