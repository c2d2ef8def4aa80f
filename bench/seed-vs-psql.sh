#!/usr/bin/env bash
# Sample-data speed, side by side in one run on a native PostgreSQL (Tests/scripts/native-postgres.sh):
#   capture: devenv sample capture (whole tables, lint + rules) vs pg_dump -a of the same database
#   seed:    devenv seed of that sample set   vs   psql loading the dump
#   restore: devenv db reset on a target (a clone of the snapshot; and with a spare copy) vs devenv seed
# Minimum of RUNS runs each; ratios lower is better.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/timing.sh"
devenv=${DEVENV:-$here/../.build/release/devenv}
runs=${RUNS:-3}
rows=${ROWS:-500000}
[ -x "$devenv" ] || { echo "bench: build devenv first: swift build -c release" >&2; exit 1; }
url=$("$here/../Tests/scripts/native-postgres.sh" start)
base=${url%/postgres}
work=$(mktemp -d)
export XDG_STATE_HOME=$work/state DOCKER_HOST=unix:///nonexistent.sock
cleanup() {
  for db in bench_source bench_seed bench_psql; do psql "$url" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" 2>/dev/null || true; done
  psql "$url" -tAc "SELECT datname FROM pg_database WHERE datname LIKE 'devenv_snap_%'" | while read -r t; do
    psql "$url" -qc "ALTER DATABASE $t WITH IS_TEMPLATE false" -c "DROP DATABASE $t WITH (FORCE)" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# People (identity columns) and runs whose notes name them in free text, so capture's
# propagation pass and its audit are part of what is timed (issue #17).
schema="CREATE TABLE people (id serial PRIMARY KEY, username text NOT NULL UNIQUE, first_name text NOT NULL, last_name text NOT NULL, email text NOT NULL);
CREATE TABLE runs (id serial PRIMARY KEY, name text NOT NULL, owner_id int REFERENCES people(id) DEFERRABLE INITIALLY DEFERRED, notes text NOT NULL, started timestamptz NOT NULL);
CREATE TABLE lumisections (id bigserial PRIMARY KEY, run_id int NOT NULL REFERENCES runs(id) DEFERRABLE INITIALLY DEFERRED, number int NOT NULL, quality text);"
psql "$url" -qc "CREATE DATABASE bench_source"
psql "$base/bench_source" -q -c "$schema" \
  -c "INSERT INTO people (username, first_name, last_name, email) SELECT 'user' || g, (ARRAY['Maria','Jan','Sofia','Luca','Pierre','Tomasz','Hans','Ines'])[1 + g % 8] || g, 'Surname' || g, 'person' || g || '@cern.ch' FROM generate_series(1, 2000) g" \
  -c "INSERT INTO runs (name, owner_id, notes, started) SELECT 'run ' || g, 1 + g % 2000, CASE WHEN g % 4 = 0 THEN 'checked by Maria' || (g % 2000) || ', ask user' || (1 + g % 2000) || ' before excluding' ELSE 'pixel timing scan in LS ' || (g % 300) END, now() - g * interval '1 minute' FROM generate_series(1, $((rows / 10))) g" \
  -c "INSERT INTO lumisections (run_id, number, quality) SELECT 1 + g % $((rows / 10)), g, CASE WHEN g % 7 = 0 THEN 'BAD' ELSE 'GOOD' END FROM generate_series(1, $rows) g"


# Capture vs pg_dump -a of the same database: the dump is the peer's input for the seed step,
# the captured set is devenv's.
export DEVENV_SAMPLE_KEY=bench-key-0123456789abcdef
capture=(); dump=()
for _ in $(seq "$runs"); do
  rm -rf "$work/set"
  t0=$(now); "$devenv" sample capture --from "$base/bench_source" --out "$work/set" --policy "$here/capture-policy.yaml" --name bench >/dev/null
  t1=$(now); capture+=("$(echo "$t1 - $t0" | bc -l)")
  t0=$(now); pg_dump -a "$base/bench_source" > "$work/dump.sql"; t1=$(now); dump+=("$(echo "$t1 - $t0" | bc -l)")
done
fresh() { psql "$url" -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" && psql "$base/$1" -qc "$schema"; }

# On a managed server a seed makes no snapshot and a reset clones the snapshot ("restore on a
# target"); with DEVENV_SPARE=1 devenv prepares a spare copy in the background after each reset,
# and the next reset renames it into place ("reset with a spare").
spare_ready() {
  for _ in $(seq 100); do
    [ "$(psql "$url" -Atc "SELECT count(*) FROM pg_database WHERE datname LIKE 'devenv\_spare\_%'")" -ge 1 ] && return 0
    sleep 0.1
  done
  echo "bench: no spare copy after 10 s" >&2; return 1
}
drop_spares() {
  for d in $(psql "$url" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'devenv\_spare\_%'"); do
    psql "$url" -qc "DROP DATABASE $d WITH (FORCE)"
  done
}
seed=(); peer=(); restore=(); cold=()
for _ in $(seq "$runs"); do
  fresh bench_psql
  t0=$(now); psql -q "$base/bench_psql" -f "$work/dump.sql" >/dev/null; t1=$(now); peer+=("$(echo "$t1 - $t0" | bc -l)")
  fresh bench_seed
  drop_spares
  t0=$(now); "$devenv" seed "$work/set" --target "$url" --database bench_seed >/dev/null; t1=$(now); seed+=("$(echo "$t1 - $t0" | bc -l)")
  "$devenv" db snapshot seeded --database bench_seed --target "$url" >/dev/null
  t0=$(now); "$devenv" db reset bench_seed --target "$url" >/dev/null; t1=$(now); cold+=("$(echo "$t1 - $t0" | bc -l)")
  DEVENV_SPARE=1 "$devenv" db reset bench_seed --target "$url" >/dev/null
  spare_ready
  t0=$(now); DEVENV_SPARE=1 "$devenv" db reset bench_seed --target "$url" >/dev/null; t1=$(now); restore+=("$(echo "$t1 - $t0" | bc -l)")
  spare_ready; drop_spares
done
drop_spares
s=$(min "${seed[@]}"); p=$(min "${peer[@]}"); r=$(min "${restore[@]}"); c=$(min "${capture[@]}"); d=$(min "${dump[@]}")
k=$(min "${cold[@]}")
echo "rows: $rows lumisections + $((rows / 10)) runs; dump $(du -h "$work/dump.sql" | cut -f1)"
printf '%-28s %9.3fs %9.3fs %7.2fx\n' "capture vs pg_dump -a" "$c" "$d" "$(echo "$c / $d" | bc -l)"
printf '%-28s %9.3fs %9.3fs %7.2fx\n' "seed vs psql -f dump" "$s" "$p" "$(echo "$s / $p" | bc -l)"
printf '%-28s %9.3fs %9.3fs %7.2fx\n' "restore on a target vs seed" "$k" "$s" "$(echo "$k / $s" | bc -l)"
printf '%-28s %9.3fs %9.3fs %7.2fx\n' "reset with a spare vs seed" "$r" "$s" "$(echo "$r / $s" | bc -l)"
