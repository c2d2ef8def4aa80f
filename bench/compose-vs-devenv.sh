#!/usr/bin/env bash
# devenv vs docker-compose 1.29 on the same ten-service file, side by side in one run:
# cold up (images present, no containers, volumes present), no-op re-up, down.
# Prints the minimum of RUNS runs per tool and the ratio devenv/compose (lower is better).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/timing.sh"
devenv=${DEVENV:-$here/../.build/release/devenv}
runs=${RUNS:-3}
stack=$here/stacks/ten
[ -x "$devenv" ] || { echo "bench: build devenv first: swift build -c release" >&2; exit 1; }
command -v docker-compose >/dev/null || { echo "bench: docker-compose missing: apt-get install docker-compose" >&2; exit 1; }
export XDG_STATE_HOME=$(mktemp -d)
trap 'rm -rf "$XDG_STATE_HOME"' EXIT


dv() { (cd "$stack" && "$devenv" "$1" -p bench-devenv "${@:2}"); }
dc() { (cd "$stack" && docker-compose -p bench-compose "$@"); }

declare -A result
for tool in devenv compose; do
  cold=(); noop=(); down=()
  for _ in $(seq "$runs"); do
    if [ "$tool" = devenv ]; then
      dv down --timeout 1 >/dev/null 2>&1 || true
      cold+=("$(time_of dv up)"); noop+=("$(time_of dv up)"); down+=("$(time_of dv down --timeout 1)")
    else
      dc down -t 1 >/dev/null 2>&1 || true
      cold+=("$(time_of dc up -d)"); noop+=("$(time_of dc up -d)"); down+=("$(time_of dc down -t 1)")
    fi
  done
  result[$tool-cold]=$(min "${cold[@]}"); result[$tool-noop]=$(min "${noop[@]}"); result[$tool-down]=$(min "${down[@]}")
done
# devenv's own peak memory during a cold up of the same stack (kernel's maximum RSS).
dv down --timeout 1 >/dev/null 2>&1 || true
rss_file=$(mktemp)
(cd "$stack" && /usr/bin/time -o "$rss_file" -f '%M' "$devenv" up -p bench-devenv >/dev/null 2>&1) || true
rss=$(tail -n1 "$rss_file"); rm -f "$rss_file"
dv down --volumes --timeout 1 >/dev/null 2>&1 || true
dc down -v -t 1 >/dev/null 2>&1 || true

printf '%-10s %10s %10s %8s\n' step devenv compose ratio
for step in cold noop down; do
  d=${result[devenv-$step]}; c=${result[compose-$step]}
  printf '%-10s %9.3fs %9.3fs %7.2fx\n' "$step" "$d" "$c" "$(echo "$d / $c" | bc -l)"
done
printf 'peak RSS of devenv during a cold up: %s MB\n' "$(echo "scale=1; $rss / 1024" | bc -l)"
