#!/usr/bin/env bash
# run-fuzzer.sh FUZZER SEED_DIR SECONDS -- a short libFuzzer run for the suite.
# New inputs go to a scratch corpus so the committed seeds stay as reviewed;
# a crash leaves its reproducer in ./fuzz-artifacts/ and fails the test.
set -eu
fuzzer=$1 seeds=$2 secs=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p fuzz-artifacts
exec "$fuzzer" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=1024 \
     -print_final_stats=1 -artifact_prefix=fuzz-artifacts/ "$work" "$seeds"
