#!/usr/bin/env bash
# devenv watch (develop.watch, action sync): the time from saving one file to that file being in
# the running container, side by side with `docker cp` of the same file (the command a developer
# would otherwise type, timed from its start to its end). docker compose's own watch is not
# available here (Debian's docker-compose is 1.29, which has none).
#
# A save is a write of a new token to src/edit.txt; it is in the container when devenv prints
# its `synced` line, which comes after the engine's archive PUT returned (checked once at the
# end with docker exec). Prints the median and the 90th percentile of RUNS saves, and the
# ratio of the medians devenv/docker cp (goal: devenv's median ≤ 300 ms).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/timing.sh"
devenv=${DEVENV:-$here/../.build/release/devenv}
runs=${RUNS:-20}
[ -x "$devenv" ] || { echo "bench: build devenv first: swift build -c release" >&2; exit 1; }
work=$(mktemp -d /tmp/devenv-bench-watch.XXXXXX)
export XDG_STATE_HOME=$work/state
project=bench-watch
log=$work/watch.log
cleanup() {
  [ -n "${watcher:-}" ] && kill -INT "$watcher" 2>/dev/null && wait "$watcher" 2>/dev/null || true
  (cd "$work" && "$devenv" down -p "$project" --timeout 1 >/dev/null 2>&1) || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/src"
cat >"$work/compose.yaml" <<'YAML'
services:
  app:
    image: debian:bookworm-slim
    command: ["sh", "-c", "trap exit TERM; sleep infinity & wait"]
    develop:
      watch:
        - {action: sync, path: ./src, target: /app/src}
YAML
echo start >"$work/src/edit.txt"
(cd "$work" && exec "$devenv" watch -p "$project") >"$log" 2>&1 &
watcher=$!
for _ in $(seq 600); do grep -q watching "$log" && break; sleep 0.1; done
grep -q watching "$log" || { echo "bench: devenv watch did not start" >&2; cat "$log" >&2; exit 1; }
container=$(docker ps -q --filter "label=com.docker.compose.project=$project" --filter label=com.docker.compose.service=app)

percentile() { sort -g | awk -v p="$1" '{a[NR]=$1} END {i=int(NR*p+0.999); if(i<1)i=1; print a[i]}'; }
saves=()
for i in $(seq "$runs"); do
  before=$(grep -c "synced" "$log" || true)
  t0=$(now)
  echo "token-$i" >"$work/src/edit.txt"
  while [ "$(grep -c "synced" "$log" || true)" -le "$before" ]; do sleep 0.002; done
  t1=$(now)
  saves+=("$(echo "($t1 - $t0) * 1000" | bc -l)")
  sleep 0.2
done
inside=$(docker exec "$container" cat /app/src/edit.txt)
[ "$inside" = "token-$runs" ] || { echo "bench: the container has '$inside', not token-$runs" >&2; exit 1; }
copies=()
for i in $(seq "$runs"); do
  echo "copy-$i" >"$work/copy.txt"
  copies+=("$(echo "$(time_of docker cp "$work/copy.txt" "$container:/app/src/copy.txt") * 1000" | bc -l)")
done
watch_median=$(printf '%s\n' "${saves[@]}" | percentile 0.5)
watch_p90=$(printf '%s\n' "${saves[@]}" | percentile 0.9)
copy_median=$(printf '%s\n' "${copies[@]}" | percentile 0.5)
printf 'save → in the container, %s saves (ms)   median %6.0f   p90 %6.0f   goal ≤ 300\n' "$runs" "$watch_median" "$watch_p90"
printf 'docker cp of the same file (ms)            median %6.0f\n' "$copy_median"
printf 'ratio devenv watch / docker cp (medians)   %.2f\n' "$(echo "$watch_median / $copy_median" | bc -l)"
