#!/usr/bin/env bash
# A native PostgreSQL for tests: the stand-in for a managed (DBoD) server.
#   native-postgres.sh start   initdb if needed, start on 127.0.0.1:$PORT, print its URL
#   native-postgres.sh stop    stop it (the data directory stays for the next run)
#   native-postgres.sh url     print the URL
# As root the server runs as the postgres user (initdb refuses root).
set -euo pipefail
dir=${DEVENV_TEST_PG_DIR:-/tmp/devenv-test-pg}
port=${DEVENV_TEST_PG_PORT:-55432}
password=devenv-test-admin
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "native-postgres: no PostgreSQL server found: apt-get install postgresql" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
url() { echo "postgresql://postgres:${password}@127.0.0.1:${port}/postgres"; }

case "${1:-start}" in
  start)
    if [ ! -s "$dir/data/PG_VERSION" ]; then
      mkdir -p "$dir"
      [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
      printf '%s' "$password" > "$dir/pwfile"
      [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir/pwfile"
      as_owner "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" -A scram-sha-256 -E UTF8 \
        --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
      rm -f "$dir/pwfile"
    fi
    if ! as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null \
        || { tail -n 20 "$dir/server.log" >&2; exit 1; }
    fi
    url
    ;;
  stop)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  url) url ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
