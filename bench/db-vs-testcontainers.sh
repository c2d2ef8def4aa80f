#!/usr/bin/env bash
# A PostgreSQL for a test suite, start to first query, side by side in one run:
#   devenv up db --random-ports, then psql on `devenv env`'s DATABASE_URL — with the
#     initialized-cluster cache made (every run after a machine's first), and with
#     DEVENV_PGINIT=0 (the image initializes its cluster, as on the very first run)
#   testcontainers-python's PostgresContainer("postgres:15") (TESTCONTAINERS_RYUK_DISABLED=true), then psycopg2
# Teardown is not timed. Minimum of RUNS runs each; ratios devenv/testcontainers (lower is better).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/timing.sh"
devenv=${DEVENV:-$here/../.build/release/devenv}
python=${PYTHON:-$here/../.build-venv/bin/python}
runs=${RUNS:-3}
[ -x "$devenv" ] || { echo "bench: build devenv first: swift build -c release" >&2; exit 1; }
[ -x "$python" ] || { echo "bench: make venv first (testcontainers, psycopg2-binary)" >&2; exit 1; }
export XDG_STATE_HOME=$(mktemp -d) TESTCONTAINERS_RYUK_DISABLED=true
trap 'rm -rf "$XDG_STATE_HOME"' EXIT
stack=$here/stacks/db/compose.yaml

# devenv up db to the first query; prints the seconds.
ours_once() {
  local project=$1 t0 t1 url
  t0=$(now)
  "$devenv" up db --random-ports -f "$stack" -p "$project" >/dev/null 2>&1
  url=$("$devenv" env -f "$stack" -p "$project" --format dotenv --show-secrets | sed -n 's/^DATABASE_URL=//p')
  psql "$url" -tAc 'SELECT 1' >/dev/null
  t1=$(now)
  "$devenv" down -v -t 1 -f "$stack" -p "$project" >/dev/null 2>&1
  echo "$t1 - $t0" | bc -l
}

# The cache: a first up makes it in the background; wait until it is there.
ours_once bench-db-warmup >/dev/null
for _ in $(seq 600); do
  pgrep -f 'devenv db prepare-init-cache' >/dev/null || break
  sleep 0.1
done
[ -n "$(docker images -q -f label=dev.devenv.pginit.from=postgres:15)" ] \
  || echo "bench: no initialized-cluster image was made; the cached figure is not one" >&2

ours=(); cold=(); theirs=()
for i in $(seq "$runs"); do
  ours+=("$(ours_once "bench-db-$i")")
  cold+=("$(DEVENV_PGINIT=0 ours_once "bench-db-cold-$i")")

  theirs+=("$("$python" - <<'PY'
import time
t0 = time.time()
import psycopg2
from testcontainers.postgres import PostgresContainer
container = PostgresContainer("postgres:15").start()
connection = psycopg2.connect(host=container.get_container_host_ip(), port=container.get_exposed_port(5432),
                              user=container.username, password=container.password, dbname=container.dbname)
connection.cursor().execute("SELECT 1")
print(time.time() - t0)
connection.close()
container.get_wrapped_container().remove(force=True, v=True)  # stop() would leave its anonymous volume
PY
)")
done
d=$(min "${ours[@]}"); c=$(min "${cold[@]}"); t=$(min "${theirs[@]}")
printf '%-52s %9.3fs %9.3fs %7.2fx\n' "postgres start to first query (devenv/tc)" "$d" "$t" "$(echo "$d / $t" | bc -l)"
printf '%-52s %9.3fs %9.3fs %7.2fx\n' "  the same, DEVENV_PGINIT=0 (no cached cluster)" "$c" "$t" "$(echo "$c / $t" | bc -l)"
