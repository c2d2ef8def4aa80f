#!/usr/bin/env bash
# A warm `up` (issue #19): the full DIALS reference stack (compose/dials) after `down -v`,
# cold (DEVENV_WARM=0: migrations on six databases, the sample set, the superuser) side by side
# with warm (the migrated, seeded databases restored from the machine's cache), in one run.
# Images are built once before timing; each `up` starts from no containers and no volumes.
# Prints the minimum of RUNS runs of each and the ratio warm/cold (goal: ≤ 0.35).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/timing.sh"
devenv=${DEVENV:-$here/../.build/release/devenv}
runs=${RUNS:-3}
[ -x "$devenv" ] || { echo "bench: build devenv first: swift build -c release" >&2; exit 1; }
stack=$here/../compose/dials
work=$(mktemp -d /tmp/devenv-bench-dials.XXXXXX)
export XDG_STATE_HOME=$work/state
project=bench-dials
down() { (cd "$stack" && "$devenv" down -p "$project" -v --timeout 1 >/dev/null 2>&1) || true; }
# The floor no cache can go below: the same stack with nothing to migrate, seed or set up in
# its databases (backend's x-devenv.django and seed left out), after `down -v` too.
floor=$stack/.bench-floor-$$.yaml
trap 'down; rm -rf "$work" "$floor"' EXIT
python3 - "$stack/compose.yaml" "$floor" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
start = lines.index("      django:")
end = lines.index("  backend-nginx:")
open(sys.argv[2], "w").write("\n".join(lines[:start] + [""] + lines[end:]))
PY
cd "$stack"
# The images, the initialized-cluster cache and the warm entry, made before timing.
"$devenv" up -p "$project" >/dev/null 2>&1 || { echo "bench: dials up failed" >&2; "$devenv" up -p "$project" >&2; exit 1; }
down
"$devenv" up -p "$project" -f "$floor" >/dev/null 2>&1 || { echo "bench: the floor stack failed" >&2; exit 1; }
down
cold=() warm=() bare=()
for _ in $(seq "$runs"); do
  cold+=("$(DEVENV_WARM=0 time_of "$devenv" up -p "$project")"); down
  warm+=("$(time_of "$devenv" up -p "$project")"); down
  bare+=("$(time_of "$devenv" up -p "$project" -f "$floor")"); down
done
c=$(min "${cold[@]}") w=$(min "${warm[@]}") f=$(min "${bare[@]}")
printf '%-48s %8.3f s\n' "cold up after down -v (DEVENV_WARM=0)" "$c"
printf '%-48s %8.3f s\n' "warm up after down -v" "$w"
printf '%-48s %8.3f s\n' "floor: no migrate, seed or superuser at all" "$f"
printf '%-48s %8.2fx  (goal <= 0.35x)\n' "warm / cold" "$(echo "$w / $c" | bc -l)"
printf '%-48s %8.2fx  (the best any cache could do)\n' "floor / cold" "$(echo "$f / $c" | bc -l)"
