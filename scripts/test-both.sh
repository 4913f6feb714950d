#!/usr/bin/env bash
# The whole suite on SQLite and on PostgreSQL, side by side (`make test`).
#
# The two runs share nothing but the machine: each has its own database, servers on free ports and its
# own temporary files. Much of a run waits — on a live server, a browser, a drill's pauses — so two at
# once take far less than one after the other. Each run's output is kept and printed whole when both
# have ended (no interleaved lines); the exit status fails if either failed.
#
# PostgreSQL: TEST_DATABASE_URL if set, else the private cluster of scripts/test-postgres.sh when
# PostgreSQL is installed, else the suite runs on SQLite only and says so.
set -uo pipefail
cd "$(dirname "$0")/.."

pytest=(.venv/bin/pytest -q -p no:cacheprovider ${PYTEST_ARGS:-})
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

env -u TEST_DATABASE_URL "${pytest[@]}" >"$logs/sqlite" 2>&1 &
sqlite=$!

url=${TEST_DATABASE_URL:-}
if [ -z "$url" ] && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  url=$(scripts/test-postgres.sh start)
fi
postgres=
if [ -n "$url" ]; then
  TEST_DATABASE_URL=$url "${pytest[@]}" >"$logs/postgres" 2>&1 &
  postgres=$!
fi

wait "$sqlite"; sqlite_status=$?
echo "== tests on SQLite"
cat "$logs/sqlite"
status=$sqlite_status
if [ -n "$postgres" ]; then
  wait "$postgres"; postgres_status=$?
  echo "== tests on PostgreSQL"
  cat "$logs/postgres"
  [ "$postgres_status" -ne 0 ] && status=$postgres_status
else
  echo "PostgreSQL is not installed: the suite ran on SQLite only (apt-get install postgresql)"
fi
exit "$status"
