#!/usr/bin/env bash
# devenv on rootless Podman vs Debian's podman-compose on the same ten-service file, side by side
# in one run: cold up (images present, no containers), no-op re-up, down. devenv talks to the
# user's `podman system service` socket; podman-compose runs the podman CLI as that user, as a
# developer would. Prints the minimum of RUNS runs per tool and the ratio devenv/podman-compose.
# Needs root (Tests/scripts/podman-engine.sh makes the user and starts the service).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/timing.sh"
devenv=${DEVENV:-$here/../.build/release/devenv}
runs=${RUNS:-3}
user=${DEVENV_PODMAN_USER:-devenv-podman}
[ -x "$devenv" ] || { echo "bench: build devenv first: make release" >&2; exit 1; }
command -v podman-compose >/dev/null || { echo "bench: podman-compose missing: apt-get install podman-compose" >&2; exit 1; }
host=$("$here/../Tests/scripts/podman-engine.sh" start)
uid=$(id -u "$user")
# The stack in a directory the user can read.
stack=$(mktemp -d /tmp/devenv-bench-podman.XXXXXX)
export XDG_STATE_HOME=$(mktemp -d)
trap 'rm -rf "$stack" "$XDG_STATE_HOME"' EXIT
cp "$here/stacks/ten/compose.yaml" "$stack/"
chmod 755 "$stack"
chmod 644 "$stack/compose.yaml"


dv() { (cd "$stack" && DOCKER_HOST=$host "$devenv" "$1" -p bench-devenv "${@:2}"); }
pc() {
  (cd "$stack" && runuser -u "$user" -- env HOME="/home/$user" XDG_RUNTIME_DIR="/run/user/$uid" \
    podman-compose -p bench-pcompose "$@")
}

declare -A result
for tool in devenv podman-compose; do
  cold=(); noop=(); down=()
  for _ in $(seq "$runs"); do
    if [ "$tool" = devenv ]; then
      dv down --timeout 1 >/dev/null 2>&1 || true
      cold+=("$(time_of dv up)"); noop+=("$(time_of dv up)"); down+=("$(time_of dv down --timeout 1)")
    else
      pc down -t 1 >/dev/null 2>&1 || true
      cold+=("$(time_of pc up -d)"); noop+=("$(time_of pc up -d)"); down+=("$(time_of pc down -t 1)")
    fi
  done
  result[$tool-cold]=$(min "${cold[@]}"); result[$tool-noop]=$(min "${noop[@]}"); result[$tool-down]=$(min "${down[@]}")
done
dv down --volumes --timeout 1 >/dev/null 2>&1 || true
pc down -v -t 1 >/dev/null 2>&1 || true

echo "rootless Podman $(runuser -u "$user" -- podman version -f '{{.Client.Version}}' 2>/dev/null), storage $(runuser -u "$user" -- env XDG_RUNTIME_DIR="/run/user/$uid" podman info -f '{{.Store.GraphDriverName}}' 2>/dev/null), $(podman-compose version 2>/dev/null | head -n1)"
printf '%-10s %10s %15s %8s\n' step devenv podman-compose ratio
for step in cold noop down; do
  d=${result[devenv-$step]}; c=${result[podman-compose-$step]}
  printf '%-10s %9.3fs %14.3fs %7.2fx\n' "$step" "$d" "$c" "$(echo "$d / $c" | bc -l)"
done
