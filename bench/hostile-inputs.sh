#!/usr/bin/env bash
# Hostile and large inputs, devenv and docker-compose 1.29 side by side on the same files:
# - a build context of 100 MB and 400 MB (one incompressible file): the client's peak RSS
#   while the engine builds it (devenv streams the tar; flat means the size does not matter);
# - config (YAML) of a service with 20,000 environment entries, and render kubernetes;
# - hostile stack files (interpolation 20,000 deep, aliases of a 1 MiB scalar, 3.9 million
#   items, a 100 KiB argument): wall time, peak RSS and exit code, bounded at 60 s each.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
devenv=${DEVENV:-$here/../.build/release/devenv}
[ -x "$devenv" ] || { echo "bench: build devenv first: swift build -c release" >&2; exit 1; }
command -v docker-compose >/dev/null || { echo "bench: docker-compose missing: apt-get install docker-compose" >&2; exit 1; }
work=$(mktemp -d)
export XDG_STATE_HOME=$work/state
cleanup() {
  (cd "$work/build" 2>/dev/null && "$devenv" down -p bench-ctx --timeout 1 >/dev/null 2>&1) || true
  docker rmi -f bench-ctx-app bench-ctx-compose >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# measure CMD…: "SECONDS PEAK_MB EXIT" of one run (GNU time), output discarded, 60 s at most.
measure() {
  local report=$work/time.txt code=0
  /usr/bin/time -o "$report" -f '%e %M' timeout 60 "$@" >/dev/null 2>&1 || code=$?
  awk -v code="$code" 'END { printf "%6.2f s %6.0f MB  exit %s", $1, $2 / 1024, code }' "$report"
}

echo "build context: client peak RSS while the engine builds it"
mkdir -p "$work/build/app"
cat >"$work/build/compose.yaml" <<'YAML'
services:
  app:
    build: ./app
    image: bench-ctx-app
    command: ["sleep", "infinity"]
    init: true
YAML
printf 'FROM debian:bookworm-slim\nCOPY data.bin /data.bin\n' >"$work/build/app/Dockerfile"
for size in 100 400; do
  head -c "${size}M" /dev/urandom >"$work/build/app/data.bin"
  d=$(cd "$work/build" && measure "$devenv" up -p bench-ctx --build)
  c=$(cd "$work/build" && measure docker-compose -p bench-ctx build --no-cache app)
  printf '  %3d MB context  devenv %s   docker-compose %s\n' "$size" "$d" "$c"
done

echo "20,000 environment entries"
mkdir -p "$work/big"
python3 - "$work/big/compose.yaml" <<'PY'
import sys
with open(sys.argv[1], "w") as out:
    out.write("services:\n  web:\n    image: x\n    environment:\n")
    for i in range(20000):
        out.write(f"      VAR_{i}: value-{i}\n")
PY
printf '  config (YAML)         devenv %s   docker-compose %s\n' \
  "$(cd "$work/big" && measure "$devenv" config)" "$(cd "$work/big" && measure docker-compose config)"
printf '  config --json         devenv %s\n' "$(cd "$work/big" && measure "$devenv" config --json)"
printf '  render kubernetes     devenv %s\n' "$(cd "$work/big" && measure "$devenv" render kubernetes -o "$work/k8s")"

echo "hostile stack files (refused by devenv with exit 2)"
python3 - "$work" <<'PY'
import os, sys
work = sys.argv[1]
def write(name, text):
    os.makedirs(f"{work}/{name}", exist_ok=True)
    open(f"{work}/{name}/compose.yaml", "w").write(text)
depth = 20000
write("interpolation", "services:\n  a:\n    image: x\n    environment:\n      A: \"" + "${A:-" * depth + "x" + "}" * depth + "\"\n")
write("aliases", "x-big: &b \"" + "x" * (1 << 20) + "\"\nservices:\n  a:\n    image: x\n    labels: [" + ", ".join(["*b"] * 40) + "]\n")
write("items", "services:\n  a:\n    image: x\nx-list: [" + ",".join(["1"] * 3900000) + "]\n")
write("argument", "services:\n  a:\n    image: x\n    command: [sh, -c, \"" + "y" * (100 << 10) + "\"]\n")
PY
for name in interpolation aliases items argument; do
  printf '  %-14s devenv %s   docker-compose %s\n' "$name" \
    "$(cd "$work/$name" && measure "$devenv" config)" "$(cd "$work/$name" && measure docker-compose config)"
done
