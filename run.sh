#!/usr/bin/env bash
# run.sh -- install, build and run espigate on a fresh Debian 12.
#
#   ./run.sh demo     install what is missing, build, run the demo (the main job)
#   ./run.sh test     install what is missing, build, run the whole test suite:
#                     release build, ASan+UBSan build, and the fuzz targets (clang)
#   ./run.sh build    install and build only (build/cli/espigate)
#   ./run.sh bench    run the benchmarks in tests/bench/ (slow; needs ~3 GB disk)
#   ./run.sh deps     install missing Debian packages only
#
# Packages come from Debian's archive only; nothing is downloaded at build
# time.  Run as root, or as a user with sudo.  Environment: JOBS (parallel
# build jobs, default nproc), FUZZ_SECONDS (per fuzz target, default 20).
set -euo pipefail
cd "$(dirname "$0")"
top=$(pwd)

PACKAGES=(
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
  libxml2-dev libxml2-utils xsltproc libxslt1-dev uuid-dev libssl-dev
  libcmocka-dev libjansson-dev libyajl-dev libcsv-dev tzdata python3 time ca-certificates
  libsqlite3-dev sqlite3 libpq-dev libcurl4-openssl-dev libzip-dev libpoppler-glib-dev
  libevent-dev openssl curl
)

# Only for `test`: the headless-browser checks of rendered pages (Debian's
# chromium driven by playwright-core from the npm registry) and a throw-away
# PostgreSQL 15 server the store tests start in a temp dir.  A command that is
# already on PATH (node, npm from another Debian source) is not reinstalled.
TEST_PACKAGES=(chromium postgresql-15 python3-requests-oauthlib)
TEST_COMMANDS=(node:nodejs npm:npm)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

deps() { # [extra packages...]
  local missing=()
  for p in "${PACKAGES[@]}" "$@"; do
    case $p in
      *:*) command -v "${p%%:*}" >/dev/null || missing+=("${p#*:}") ;;
      *) dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p") ;;
    esac
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  local sudo=
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "need root (or sudo) to install: ${missing[*]}"
    sudo=sudo
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

jobs() { echo "${JOBS:-$(nproc)}"; }

build() { # build DIR [cmake args...]
  local dir=$1; shift
  cmake -S "$top" -B "$dir" -G Ninja "$@" >/dev/null
  ninja -C "$dir" -j "$(jobs)"
}

# Totals across every ctest run, printed as one closing line.
PASSED=0 FAILED=0 SKIPPED=0
run_ctest() { # DIR [ctest args...]
  local dir=$1; shift
  local logf
  logf=$(mktemp)
  local rc=0
  ctest --test-dir "$dir" --output-on-failure -j "$(jobs)" "$@" 2>&1 | tee "$logf" || rc=$?
  local total failed skipped
  total=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$logf" | tail -1)
  failed=$(sed -n 's/.*, \([0-9]*\) tests failed out of.*/\1/p' "$logf" | tail -1)
  skipped=$(grep -c '\*\*\*Skipped' "$logf" || true)
  rm -f "$logf"
  total=${total:-0} failed=${failed:-0}
  PASSED=$((PASSED + total - failed - skipped)) FAILED=$((FAILED + failed)) SKIPPED=$((SKIPPED + skipped))
  [ "$total" -gt 0 ] || { echo "no tests ran in $dir" >&2; FAILED=$((FAILED + 1)); }
  return 0
}

cmd=${1:-help}
case "$cmd" in
  deps)
    deps ;;
  build)
    deps
    build build ;;
  demo)
    deps
    log "building"
    build build
    log "running the demo"
    exec build/cli/espigate demo --out out ;;
  test)
    deps "${TEST_PACKAGES[@]}" "${TEST_COMMANDS[@]}"
    # playwright-core once, before the browser tests run in parallel (they
    # would each try to install it otherwise); they skip cleanly without it
    if [ ! -d node_modules/playwright-core ] && command -v npm >/dev/null; then
      log "installing playwright-core (npm) for the headless-Chromium tests"
      npm install --no-save --no-audit --no-fund playwright-core@1 >/dev/null 2>&1 ||
        echo "run.sh: npm install playwright-core failed; the browser tests will be skipped" >&2
    fi
    log "release build + tests"
    build build
    run_ctest build
    log "ASan+UBSan build + tests"
    build build-asan -DESPIGATE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 run_ctest build-asan
    log "fuzz targets (clang + libFuzzer, ${FUZZ_SECONDS:-20} s each)"
    CC=clang build build-fuzz -DESPIGATE_FUZZ=ON -DFUZZ_SECONDS="${FUZZ_SECONDS:-20}"
    run_ctest build-fuzz -R '^fuzz/'
    echo
    echo "all: $PASSED passed, $FAILED failed, $SKIPPED skipped"
    [ "$FAILED" -eq 0 ] ;;
  bench)
    deps wrk nginx-light
    build build -DCMAKE_BUILD_TYPE=Release
    for b in tests/bench/bench_*.sh; do
      log "$b"
      ESPIGATE="$top/build/cli/espigate" ESPIGATE_SHARED="$top/../shared" bash "$b"
    done ;;
  help|-h|--help)
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' ;;
  *)
    die "unknown command '$cmd' (try: ./run.sh help)" ;;
esac
