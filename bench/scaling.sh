#!/usr/bin/env bash
# Does `up` time per service stay flat as stacks grow? Cold up (no containers) of stacks of
# 5, 20 and 50 independent services (debian:bookworm-slim, sleeping), minimum of RUNS runs,
# with devenv and docker-compose 1.29 side by side.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/timing.sh"
devenv=${DEVENV:-$here/../.build/release/devenv}
runs=${RUNS:-3}
work=$(mktemp -d)
export XDG_STATE_HOME=$work/state
trap 'rm -rf "$work"' EXIT
printf '%-9s %10s %12s %10s %12s %7s\n' services devenv per-service compose per-service ratio
for n in 5 20 50; do
  dir=$work/s$n; mkdir -p "$dir"
  { echo "services:"; for i in $(seq "$n"); do printf '  s%d:\n    image: debian:bookworm-slim\n    command: ["sleep", "infinity"]\n    init: true\n' "$i"; done; } > "$dir/compose.yaml"
  ours=(); theirs=()
  for _ in $(seq "$runs"); do
    t0=$(now); (cd "$dir" && "$devenv" up -p scale$n >/dev/null 2>&1); t1=$(now); ours+=("$(echo "$t1 - $t0" | bc -l)")
    (cd "$dir" && "$devenv" down -p scale$n -t 1 >/dev/null 2>&1)
    t0=$(now); (cd "$dir" && docker-compose -p scalec$n up -d >/dev/null 2>&1); t1=$(now); theirs+=("$(echo "$t1 - $t0" | bc -l)")
    (cd "$dir" && docker-compose -p scalec$n down -t 1 >/dev/null 2>&1)
  done
  d=$(min "${ours[@]}"); c=$(min "${theirs[@]}")
  printf '%-9s %9.3fs %11.3fs %9.3fs %11.3fs %6.2fx\n' "$n" "$d" "$(echo "$d / $n" | bc -l)" "$c" "$(echo "$c / $n" | bc -l)" "$(echo "$d / $c" | bc -l)"
done
