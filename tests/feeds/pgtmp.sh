#!/bin/bash
# pgtmp.sh -- a throw-away PostgreSQL 15 cluster for the store tests and benchmarks.
#
#   pgtmp.sh start DIR   initdb in DIR, start a server listening only on a unix socket
#                        in DIR, create database "espigate", print its URL on stdout
#   pgtmp.sh db DIR NAME create another database NAME in that cluster, print its URL
#   pgtmp.sh stop DIR    stop the server and delete DIR
#
# Exit 77 (with the reason on stderr) when PostgreSQL is not installed, so callers can skip.
# initdb refuses to run as root: as root the cluster belongs to the 'postgres' user.
set -eu
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
cmd=${1:?usage: pgtmp.sh start|stop DIR}
dir=${2:?usage: pgtmp.sh start|stop DIR}
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ] || [ ! -x "$PGBIN/pg_ctl" ]; then
  echo "pgtmp: PostgreSQL server not installed (no initdb/pg_ctl under /usr/lib/postgresql/*/bin)" >&2
  exit 77
fi
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case $cmd in
start)
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    echo "pgtmp: running as root and there is no 'postgres' user to own the cluster" >&2
    exit 77
  fi
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  as_owner "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust --no-sync >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "-c listen_addresses='' -k $dir -c fsync=off -c full_page_writes=off" start >/dev/null ||
    { cat "$dir/server.log" >&2; exit 1; }
  as_owner "$PGBIN/createdb" -h "$dir" -U postgres espigate
  echo "postgresql://postgres@/espigate?host=$dir"
  ;;
db)
  name=${3:?usage: pgtmp.sh db DIR NAME}
  as_owner "$PGBIN/createdb" -h "$dir" -U postgres "$name"
  echo "postgresql://postgres@/$name?host=$dir"
  ;;
stop)
  [ -d "$dir/data" ] && as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
*) echo "usage: pgtmp.sh start|stop DIR" >&2; exit 64 ;;
esac
