#!/usr/bin/env bash
# A private PostgreSQL cluster for the test suite, listening on loopback only.
#
#   scripts/test-postgres.sh start   # init (first time) and start; prints the database URL
#   scripts/test-postgres.sh stop
#   scripts/test-postgres.sh url
#
# Settings: VOUCHER_PG_DIR (default /tmp/voucher-pg-test), VOUCHER_PG_PORT (default 55432).
# Durability is switched off (fsync, synchronous_commit): this cluster holds nothing worth keeping.
set -euo pipefail

dir=${VOUCHER_PG_DIR:-/tmp/voucher-pg-test}
port=${VOUCHER_PG_PORT:-55432}
db=voucher_test
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ]; then
  echo "test-postgres: PostgreSQL is not installed (apt-get install postgresql)" >&2
  exit 1
fi

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

url() { echo "postgresql://postgres@127.0.0.1:${port}/${db}"; }

start() {
  if [ ! -s "$dir/PG_VERSION" ]; then
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_postgres "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if ! as_postgres "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    as_postgres "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start -o \
      "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
       -c full_page_writes=off -c max_connections=300 -c shared_buffers=256MB" >/dev/null
  fi
  if ! as_postgres "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -Atqc \
      "SELECT 1 FROM pg_database WHERE datname = '$db'" postgres | grep -q 1; then
    as_postgres "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$db"
  fi
  url
}

stop() {
  if [ -s "$dir/PG_VERSION" ]; then
    as_postgres "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) url ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
