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
#     Bulk covers BENCH_BULK_CUSTOMERS customers (default 60) with
#     BENCH_BULK_UPS usage points each (default 2), each customer with a member
#     who approved one application; throughput is compared with nginx serving
#     the downloaded bytes as a static file (BENCH_BULK_NGINX=0 skips that and
#     the ~1 GB file on disk).
# nginx runs in the foreground from a temp config (BENCH_NGINX_WORKERS worker
# processes, default auto; espigate streams a feed from a worker thread, so it
# may use both cores too).  Not a test: nothing is asserted; the targets are
# printed beside the ratios for the reader to judge.  Loopback only; every
# process and file it starts is removed at exit.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/../.." && pwd)
E=$ESPIGATE
PY=/usr/bin/python3
days=${BENCH_DAYS:-365}
feed_wrk=${BENCH_FEED_WRK:--t1 -c2 -d15s}
small_wrk=${BENCH_SMALL_WRK:--t2 -c8 -d10s}
bulk_customers=${BENCH_BULK_CUSTOMERS:-60}
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
        --ca "$CA" --client-id "$CLIENT_ID" --client-secret "$SECRET" --redirect-uri "$REDIR" \
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
row() { # LABEL ESPIGATE NGINX RATIO TARGET
  printf '%-24s %12s %12s %8s   %s\n' "$1" "$2" "$3" "$4" "$5"
}

echo "== wrk on loopback, keep-alive, TLS (same certificate); nginx worker_processes $nginx_workers; $(nproc) cores"
echo "Subscription feed: $(mb "$sub_bytes") MB ($days days x 96 readings), wrk $feed_wrk"
echo "ReadServiceStatus: $status_bytes bytes, wrk $small_wrk"
bench_wrk e-feed "$SUB_URI" "$feed_wrk"; e_feed_rps=$RPS e_feed_p99=$P99_MS
bench_wrk n-feed "$NBASE/subscription.xml" "$feed_wrk"; n_feed_rps=$RPS n_feed_p99=$P99_MS
bench_wrk e-small "$STATUS_URI" "$small_wrk"; e_small_rps=$RPS e_small_p99=$P99_MS
bench_wrk n-small "$NBASE/status.xml" "$small_wrk"; n_small_rps=$RPS n_small_p99=$P99_MS
row "" espigate nginx ratio target
row "feed requests/s" "$e_feed_rps" "$n_feed_rps" "$(ratio "$e_feed_rps" "$n_feed_rps")" ">= 0.50"
row "feed p99 latency ms" "$e_feed_p99" "$n_feed_p99" "$(ratio "$e_feed_p99" "$n_feed_p99")" "<= 2.00"
row "feed MB/s" "$(awk -v r="$e_feed_rps" -v b="$sub_bytes" 'BEGIN{printf "%.1f", r*b/1e6}')" \
    "$(awk -v r="$n_feed_rps" -v b="$sub_bytes" 'BEGIN{printf "%.1f", r*b/1e6}')" \
    "$(ratio "$e_feed_rps" "$n_feed_rps")" ""
row "status requests/s" "$e_small_rps" "$n_small_rps" "$(ratio "$e_small_rps" "$n_small_rps")" ">= 0.50"
row "status p99 latency ms" "$e_small_p99" "$n_small_p99" "$(ratio "$e_small_p99" "$n_small_p99")" "(none)"
