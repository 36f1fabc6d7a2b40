#!/usr/bin/env bash
# bench_serve.sh -- `espigate serve` beside nginx serving the same bytes as static files.
#
# Both servers run on loopback in this run with the same certificate (the dev
# certificates of certs/make-dev-certs.sh), TLS 1.2/1.3 and keep-alive; wrk
# drives both with the same command line and the same Authorization header
# (nginx ignores it).  nginx is the reference for:
#   - a one-year 15-minute Batch/Subscription feed (BENCH_DAYS days, ~10-20 MB):
#     espigate's requests/s >= 50% of nginx's, p99 latency <= 2x nginx's.  The
#     response is big, so wrk uses few connections (BENCH_FEED_WRK, default
#     -t1 -c2 -d15s);
#   - ReadServiceStatus (a small response) vs a small static file with its
#     exact bytes: requests/s >= 50% of nginx's (BENCH_SMALL_WRK, -t2 -c8 -d10s);
#   - resident memory while one Batch/Bulk response of ~1 GB streams to curl:
#     peak VmRSS (sampled every 0.2 s) and VmHWM of the server <= 64 MB.  The
#     Bulk covers BENCH_BULK_CUSTOMERS customers (default 68) with
#     BENCH_BULK_UPS usage points each (default 2; ~7.5 MB per usage point and
#     year, so ~1 GB), each customer with a member
#     who approved one application; throughput is compared with nginx serving
#     the downloaded bytes as a static file (BENCH_BULK_NGINX=0 skips that and
#     the ~1 GB file on disk).
# nginx runs in the foreground from a temp config (BENCH_NGINX_WORKERS worker
# processes, default auto = one per core).  The targets are judged on
# `espigate serve --workers N` (BENCH_WORKERS, default one per core, as
# nginx's auto), each pair of wrk runs back to back so both see the same
# machine; one espigate process (one event loop, plus a worker thread per
# streamed feed) is measured after them for reference.  Not a test: nothing
# is asserted; the targets are printed beside the ratios for the reader to
# judge.  Loopback only; every process and file it starts is removed at exit.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/../.." && pwd)
E=$ESPIGATE
PY=/usr/bin/python3
days=${BENCH_DAYS:-365}
feed_wrk=${BENCH_FEED_WRK:--t1 -c2 -d15s}
small_wrk=${BENCH_SMALL_WRK:--t2 -c8 -d10s}
bulk_customers=${BENCH_BULK_CUSTOMERS:-68}
bulk_ups=${BENCH_BULK_UPS:-2}
bulk_nginx=${BENCH_BULK_NGINX:-1}
nginx_workers=${BENCH_NGINX_WORKERS:-auto}

missing=()
for t in wrk nginx curl; do command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] || missing+=("$t"); done
$PY -c 'import requests_oauthlib' 2>/dev/null || missing+=(python3-requests-oauthlib)
if [ ${#missing[@]} -gt 0 ]; then
  echo "skipped: missing ${missing[*]} (apt-get install wrk nginx-light curl python3-requests-oauthlib)"
  exit 0
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$BENCH_DIR"
}
trap cleanup EXIT

# alive WHAT: stop here with the server's last words when espigate serve has exited
alive() {
  kill -0 "$SERVER_PID" 2>/dev/null && return 0
  local rc=0
  wait "$SERVER_PID" || rc=$?
  echo "espigate serve exited (status $rc$([ $rc -gt 128 ] && echo ", signal $((rc - 128))")) during $1:" \
       "$(tail -5 "$BENCH_DIR/serve.err")" >&2
  exit 1
}
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
jget() { $PY -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

# ---------------------------------------------------------------- setup
bash "$src/certs/make-dev-certs.sh" "$BENCH_DIR/certs" >/dev/null
CA=$BENCH_DIR/certs/ca.pem CERT=$BENCH_DIR/certs/server.pem KEY=$BENCH_DIR/certs/server.key
DB="sqlite:$BENCH_DIR/store.db"
SCOPE='FB=1_3_4_5_13_14_39;IntervalDuration=900;BlockDuration=daily;HistoryLength=13'
REDIR=https://127.0.0.1:9/cb
printf 'bench-pw-1' >"$BENCH_DIR/pw"

"$E" synth --usage-points 1 --days "$days" --interval 900 --compact -o "$BENCH_DIR/year.xml"
"$E" customer add --db "$DB" alice >/dev/null
"$E" import -q --db "$DB" --customer alice "$BENCH_DIR/year.xml"
"$E" member add --db "$DB" --customer alice --login alice --password-file "$BENCH_DIR/pw" >/dev/null
j=$("$E" client add --db "$DB" --name "Bench App" --redirect-uri "$REDIR" --scope "$SCOPE" --format json)
CLIENT_ID=$(printf '%s' "$j" | jget client_id) SECRET=$(printf '%s' "$j" | jget client_secret)

EPORT=$(free_port)
BASE="https://127.0.0.1:$EPORT"
"$E" serve --db "$DB" --listen "127.0.0.1:$EPORT" --base-url "$BASE" --cert "$CERT" --key "$KEY" \
  >"$BENCH_DIR/serve.out" 2>"$BENCH_DIR/serve.err" &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
for _ in $(seq 100); do
  grep -q 'listening on' "$BENCH_DIR/serve.out" 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.1
done
grep -q 'listening on' "$BENCH_DIR/serve.out" || { echo "espigate serve did not start: $(cat "$BENCH_DIR/serve.err")" >&2; exit 1; }

tok=$(OAUTHLIB_RELAX_TOKEN_SCOPE=1 $PY "$src/tests/feeds/third_party.py" --base "$BASE/DataCustodian" \
        --ca "$CA" --client-id="$CLIENT_ID" --client-secret="$SECRET" --redirect-uri "$REDIR" \
        --scope "$SCOPE" --login alice --password bench-pw-1 --print-token 2>"$BENCH_DIR/tp.err") ||
  { echo "could not get a token: $(tail -5 "$BENCH_DIR/tp.err")" >&2; exit 1; }
TOKEN=$(printf '%s' "$tok" | jget access_token)
SUB_URI=$(printf '%s' "$tok" | jget resourceURI)
STATUS_URI="$BASE/DataCustodian/espi/1_1/resource/ReadServiceStatus"

# the exact bytes nginx will serve
WWW=$BENCH_DIR/www
mkdir -p "$WWW"
C=(curl -sS --fail --cacert "$CA" --max-time 120 -H "Authorization: Bearer $TOKEN")
"${C[@]}" -o "$WWW/subscription.xml" "$SUB_URI"
"${C[@]}" -o "$WWW/status.xml" "$STATUS_URI"
sub_bytes=$(stat -c %s "$WWW/subscription.xml")
status_bytes=$(stat -c %s "$WWW/status.xml")

# ---------------------------------------------------------------- nginx
NPORT=$(free_port)
NDIR=$BENCH_DIR/nginx
mkdir -p "$NDIR"
user_line=""
if [ "$(id -u)" = 0 ]; then   # root: workers drop to nobody, who must read the files
  user_line="user nobody nogroup;"
  chmod 755 "$BENCH_DIR" "$WWW"
  chmod 644 "$WWW"/*
fi
cat >"$NDIR/nginx.conf" <<EOF
$user_line
daemon off;
worker_processes $nginx_workers;
pid $NDIR/nginx.pid;
error_log $NDIR/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $NDIR/client_body;
  proxy_temp_path $NDIR/proxy;
  fastcgi_temp_path $NDIR/fastcgi;
  uwsgi_temp_path $NDIR/uwsgi;
  scgi_temp_path $NDIR/scgi;
  sendfile on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  default_type application/atom+xml;
  server {
    listen 127.0.0.1:$NPORT ssl;
    ssl_certificate $CERT;
    ssl_certificate_key $KEY;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $WWW;
  }
}
EOF
"$NGINX" -p "$NDIR" -c "$NDIR/nginx.conf" -e "$NDIR/error.log" 2>"$NDIR/stderr" &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
NBASE="https://127.0.0.1:$NPORT"
for _ in $(seq 100); do
  curl -s --cacert "$CA" -o /dev/null "$NBASE/status.xml" && break
  kill -0 "$NGINX_PID" 2>/dev/null || break
  sleep 0.1
done
cmp -s <(curl -s --cacert "$CA" "$NBASE/subscription.xml") "$WWW/subscription.xml" ||
  { echo "nginx does not serve the feed: $(cat "$NDIR/stderr" "$NDIR/error.log" 2>/dev/null | tail -5)" >&2; exit 1; }

# ---------------------------------------------------------------- wrk
# bench_wrk NAME URL WRK-OPTIONS -> RPS, P99_MS; wrk's notes (errors, non-2xx) are printed
bench_wrk() {
  local name=$1 url=$2; shift 2
  local out=$BENCH_DIR/wrk.$name
  # shellcheck disable=SC2086
  wrk $1 --latency -H "Authorization: Bearer $TOKEN" "$url" >"$out" 2>&1 || true
  RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
  P99_MS=$(awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
                 f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : -1
                 printf "%.2f", v * f }' "$out")
  RPS=${RPS:-0} P99_MS=${P99_MS:-0}
  grep -E 'Non-2xx|Socket errors' "$out" | sed "s/^ */  $name: /" || true
}
row() { # LABEL ESPIGATE NGINX RATIO TARGET: the target as "<= X" or ">= X" gets a verdict
  local v=""
  case $5 in
    ">= "*) v=$(awk -v r="$4" -v t="${5#>= }" 'BEGIN { print (r >= t) ? "met" : "MISSED" }') ;;
    "<= "*) v=$(awk -v r="$4" -v t="${5#<= }" 'BEGIN { print (r <= t) ? "met" : "MISSED" }') ;;
  esac
  printf '%-24s %12s %12s %8s   %-8s %s\n' "$1" "$2" "$3" "$4" "$5" "$v"
}

workers=${BENCH_WORKERS:-$(nproc)}
echo "== wrk on loopback, keep-alive, TLS (same certificate); nginx worker_processes $nginx_workers; $(nproc) cores"
echo "Subscription feed: $(mb "$sub_bytes") MB ($days days x 96 readings), wrk $feed_wrk"
echo "ReadServiceStatus: $status_bytes bytes, wrk $small_wrk"
# the same store served by --workers W processes sharing one listening socket,
# on its own port
WPORT=$(free_port)
"$E" serve --db "$DB" --listen "127.0.0.1:$WPORT" --base-url "$BASE" --cert "$CERT" --key "$KEY" \
  --workers "$workers" >"$BENCH_DIR/serve-w.out" 2>"$BENCH_DIR/serve-w.err" &
PIDS+=("$!")
for _ in $(seq 100); do grep -q 'listening on' "$BENCH_DIR/serve-w.out" 2>/dev/null && break; sleep 0.1; done
bench_wrk w-feed "${SUB_URI/:$EPORT\//:$WPORT/}" "$feed_wrk"; w_feed_rps=$RPS w_feed_p99=$P99_MS
bench_wrk n-feed "$NBASE/subscription.xml" "$feed_wrk"; n_feed_rps=$RPS n_feed_p99=$P99_MS
bench_wrk w-small "${STATUS_URI/:$EPORT\//:$WPORT/}" "$small_wrk"; w_small_rps=$RPS w_small_p99=$P99_MS
bench_wrk n-small "$NBASE/status.xml" "$small_wrk"; n_small_rps=$RPS n_small_p99=$P99_MS
bench_wrk e-feed "$SUB_URI" "$feed_wrk"; e_feed_rps=$RPS e_feed_p99=$P99_MS
bench_wrk e-small "$STATUS_URI" "$small_wrk"; e_small_rps=$RPS e_small_p99=$P99_MS
alive "the wrk runs"
echo "espigate serve --workers $workers (one listening socket, $workers processes) vs nginx:"
row "" espigate nginx ratio target
row "feed requests/s" "$w_feed_rps" "$n_feed_rps" "$(ratio "$w_feed_rps" "$n_feed_rps")" ">= 0.50"
row "feed p99 latency ms" "$w_feed_p99" "$n_feed_p99" "$(ratio "$w_feed_p99" "$n_feed_p99")" "<= 2.00"
row "feed MB/s" "$(awk -v r="$w_feed_rps" -v b="$sub_bytes" 'BEGIN{printf "%.1f", r*b/1e6}')" \
    "$(awk -v r="$n_feed_rps" -v b="$sub_bytes" 'BEGIN{printf "%.1f", r*b/1e6}')" \
    "$(ratio "$w_feed_rps" "$n_feed_rps")" ""
row "status requests/s" "$w_small_rps" "$n_small_rps" "$(ratio "$w_small_rps" "$n_small_rps")" ">= 0.50"
row "status p99 latency ms" "$w_small_p99" "$n_small_p99" "$(ratio "$w_small_p99" "$n_small_p99")" "(none)"
echo "for reference, one espigate process (one event loop) vs the same nginx figures:"
row "feed requests/s" "$e_feed_rps" "$n_feed_rps" "$(ratio "$e_feed_rps" "$n_feed_rps")" ""
row "feed p99 latency ms" "$e_feed_p99" "$n_feed_p99" "$(ratio "$e_feed_p99" "$n_feed_p99")" ""
row "status requests/s" "$e_small_rps" "$n_small_rps" "$(ratio "$e_small_rps" "$n_small_rps")" ""
row "status p99 latency ms" "$e_small_p99" "$n_small_p99" "$(ratio "$e_small_p99" "$n_small_p99")" ""
# wrk's latency figures cover completed responses only: check that every feed
# response on one keep-alive connection arrives whole and in time
ka_n=${BENCH_KEEPALIVE_N:-20}
args=()
for _ in $(seq "$ka_n"); do args+=(-o /dev/null -w '%{size_download} %{time_total}\n' "$SUB_URI"); done
curl -s --cacert "$CA" --max-time 3 -H "Authorization: Bearer $TOKEN" "${args[@]}" >"$BENCH_DIR/ka.out" 2>&1 || true
ka_bad=$(awk -v b="$sub_bytes" '$1 != b' "$BENCH_DIR/ka.out" | wc -l)
echo "keep-alive check: $ka_n feed requests on one connection (curl, 3 s each):" \
     "$((ka_n - ka_bad)) whole, $ka_bad cut short or stalled"
echo "espigate serve after the wrk runs: VmRSS $(awk '/^VmRSS:/ { print int($2 / 1024) }' "/proc/$SERVER_PID/status") MB, VmHWM $(awk '/^VmHWM:/ { print int($2 / 1024) }' "/proc/$SERVER_PID/status") MB"

# ---------------------------------------------------------------- Bulk
echo "== Batch/Bulk: $bulk_customers customers x $bulk_ups usage points x $days days, one application"
j=$("$E" client add --db "$DB" --name "Bulk App" --redirect-uri "$REDIR" --scope "$SCOPE" --format json)
BULK_ID=$(printf '%s' "$j" | jget client_id) BULK_SECRET=$(printf '%s' "$j" | jget client_secret)
t0=$(date +%s.%N)
for i in $(seq "$bulk_customers"); do
  c=$(printf 'bulk%03d' "$i")
  "$E" synth --usage-points "$bulk_ups" --days "$days" --interval 900 --compact --seed $((i + 1)) \
    -o "$BENCH_DIR/bulk.xml"
  "$E" customer add --db "$DB" "$c" >/dev/null
  "$E" import -q --db "$DB" --customer "$c" "$BENCH_DIR/bulk.xml"
  "$E" member add --db "$DB" --customer "$c" --login "$c" --password-file "$BENCH_DIR/pw" >/dev/null
done
rm -f "$BENCH_DIR/bulk.xml"
alive "the Bulk imports"
# each member approves the application once (consent page, code + PKCE, token)
OAUTHLIB_RELAX_TOKEN_SCOPE=1 $PY - "$src/tests/feeds" "$BASE/DataCustodian" "$CA" "$BULK_ID" \
    "$BULK_SECRET" "$REDIR" "$SCOPE" "$bulk_customers" >"$BENCH_DIR/grants.out" 2>&1 <<'PYEOF' ||
import sys, types
sys.path.insert(0, sys.argv[1])
import third_party
base, ca, cid, sec, redir, scope, n = sys.argv[2:]
sys.stdout = sys.stderr              # consent()'s check lines
for i in range(1, int(n) + 1):
    o = types.SimpleNamespace(base=base, ca=ca, client_id=cid, client_secret=sec, redirect_uri=redir,
                              scope=scope, login="bulk%03d" % i, password="bench-pw-1")
    _, t = third_party.grant(o)
    assert "access_token" in t, t
sys.exit(1 if third_party.failed else 0)
PYEOF
  { echo "approving the Bulk application failed: $(tail -5 "$BENCH_DIR/grants.out")" >&2; exit 1; }
echo "setup (synth, import, members, consent): $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.0f", b-a}') s"

BULK_TOKEN=$(curl -sS --fail --cacert "$CA" -u "$BULK_ID:$BULK_SECRET" -d grant_type=client_credentials \
               "$BASE/DataCustodian/oauth/token" | jget access_token)
BULK_URI="$BASE/DataCustodian/espi/1_1/resource/Batch/Bulk/$BULK_ID"

# bulk_get OUT -> BYTES, SECS, PEAK_KB (VmRSS sampled every 0.2 s), HWM_KB (VmHWM after)
bulk_get() {
  local out=$1
  echo 5 >"/proc/$SERVER_PID/clear_refs" 2>/dev/null || true   # VmHWM := VmRSS now
  curl -sS --cacert "$CA" --max-time 600 -H "Authorization: Bearer $BULK_TOKEN" -o "$out" \
    -w '%{http_code} %{size_download} %{time_total}\n' "$BULK_URI" >"$BENCH_DIR/bulk.w" &
  local cpid=$! peak=0 v
  while kill -0 "$cpid" 2>/dev/null; do
    v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)
    [ "${v:-0}" -gt "$peak" ] && peak=$v
    sleep 0.2
  done
  wait "$cpid" || true
  local code
  read -r code BYTES SECS <"$BENCH_DIR/bulk.w"
  [ "$code" = 200 ] || echo "  Bulk answered HTTP $code"
  PEAK_KB=$peak
  HWM_KB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status")
}
base_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status")
bulk_get /dev/null
e_bytes=$BYTES e_secs=$SECS e_peak=$PEAK_KB e_hwm=$HWM_KB
mbs() { awk -v b="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.1f", b / s / 1e6; else print "inf" }'; }
echo "espigate Bulk: $(mb "$e_bytes") MB in $(printf %.2f "$e_secs") s, $(mbs "$e_bytes" "$e_secs") MB/s"
echo "server RSS: $((base_kb / 1024)) MB before, peak sampled VmRSS $((e_peak / 1024)) MB," \
     "VmHWM $((e_hwm / 1024)) MB during the Bulk (target <= 64 MB:" \
     "$([ $((e_hwm > e_peak ? e_hwm : e_peak)) -le 65536 ] && echo met || echo MISSED))"
if [ "$bulk_nginx" = 1 ]; then
  bulk_get "$WWW/bulk.xml"              # the same bytes to disk, for nginx
  chmod 644 "$WWW/bulk.xml"
  n_w=$(curl -sS --cacert "$CA" --max-time 600 -o /dev/null -w '%{size_download} %{time_total}' "$NBASE/bulk.xml")
  rm -f "$WWW/bulk.xml"
  n_bytes=${n_w% *} n_secs=${n_w#* }
  echo "nginx static file: $(mb "$n_bytes") MB in $(printf %.2f "$n_secs") s, $(mbs "$n_bytes" "$n_secs") MB/s"
  echo "ratio (espigate Bulk MB/s / nginx MB/s): $(ratio "$n_secs" "$e_secs")"
fi
