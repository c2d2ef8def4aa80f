#!/usr/bin/env bash
# Installs and starts what devenv needs on a Debian machine, touching only what is missing.
#   setup.sh packages   apt packages (build libraries, debootstrap, a native PostgreSQL)
#   setup.sh engine     a reachable Docker engine: an existing one is left alone; else, as
#                       root, docker.io is installed if absent and dockerd started
set -euo pipefail

say() { echo "setup: $*"; }

# apt's own chatter goes to a log, shown only when it fails.
# `apt_install --recommends PKG…` keeps the package's recommends (docker.io wants cgroupfs-mount).
apt_install() {
  local log=/tmp/devenv-apt.log recommends=--no-install-recommends
  if [ "$1" = --recommends ]; then recommends=; shift; fi
  { apt-get update -qq && NEEDRESTART_SUSPEND=1 DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq $recommends "$@"; } >"$log" 2>&1 \
    || { tail -n 20 "$log" >&2; say "apt-get install $* failed, see $log" >&2; exit 1; }
}
is_root() { [ "$(id -u)" = 0 ]; }

packages() {
  # tmux: the terminal tests (devenv exec with a TTY) run in a tmux pane.
  local wanted=(curl pkg-config libcurl4-openssl-dev libpq-dev libsqlite3-dev debootstrap postgresql-15 ca-certificates tmux docker-compose groff-base)
  local missing=()
  for p in "${wanted[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && { say "packages present"; return; }
  if ! is_root; then
    say "missing packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  say "installing ${missing[*]}"
  apt_install "${missing[@]}"
}

engine_answers() {
  local host=${DOCKER_HOST:-}
  if [ -n "$host" ] && [ "${host#unix://}" = "$host" ]; then
    docker version >/dev/null 2>&1   # tcp:// and friends: ask the client
  else
    local sock=${host#unix://}
    sock=${sock:-/var/run/docker.sock}
    [ -S "$sock" ] && curl -fsS --max-time 3 --unix-socket "$sock" http://localhost/_ping >/dev/null 2>&1
  fi
}

engine() {
  if engine_answers; then say "docker engine answers"; return; fi
  if ! is_root; then
    say "no docker engine answers at ${DOCKER_HOST:-unix:///var/run/docker.sock}; start one (or run as root to let make start dockerd)" >&2
    exit 1
  fi
  if ! command -v dockerd >/dev/null; then
    say "installing docker.io"
    apt_install --recommends docker.io
  fi
  command -v docker >/dev/null || { say "docker client missing: apt-get install docker.io" >&2; exit 1; }
  say "starting dockerd (log: /var/log/dockerd.log)"
  # A /24 per network out of 10.128.0.0/12: 4096 networks. dockerd's default pools hold 31, and
  # the test suite's projects running side by side used them up ("could not find an available,
  # non-overlapping IPv4 address pool").
  nohup dockerd --host unix:///var/run/docker.sock --default-address-pool base=10.128.0.0/12,size=24 \
    >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    if engine_answers; then say "docker engine answers"; return; fi
    sleep 1
  done
  tail -n 20 /var/log/dockerd.log >&2
  say "dockerd did not answer within 60 s" >&2
  exit 1
}

case "${1:-}" in
  packages) packages ;;
  engine) engine ;;
  *) echo "usage: $0 packages|engine" >&2; exit 2 ;;
esac
