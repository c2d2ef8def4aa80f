#!/usr/bin/env bash
# Rootless Podman for the engine-matrix tests: Podman's Docker-compatible API served by a
# non-root user, with the offline images loaded into that user's storage.
#   podman-engine.sh start   install podman (and catatonit, for init: true) if missing (root), make the user, start the service,
#                            load the images; print DOCKER_HOST
#   podman-engine.sh host    print DOCKER_HOST (unix://…/podman.sock)
#   podman-engine.sh matrix  the engine for DEVENV_TEST_ENGINES: podman:DOCKER_HOST=…
#   podman-engine.sh stop    stop the service (the user's images stay for the next run)
# Needs root (useradd, /dev/net/tun, apt). Images come from the rootful engine (`docker save`).
set -euo pipefail
user=${DEVENV_PODMAN_USER:-devenv-podman}
images=(${DEVENV_PODMAN_IMAGES:-debian:bookworm-slim postgres:15 redis:7})
say() { echo "podman-engine: $*" >&2; }

[ "$(id -u)" = 0 ] || { say "needs root (it makes the user $user and /dev/net/tun usable)"; exit 1; }

uid() { id -u "$user"; }
run_dir() { echo "/run/user/$(uid)"; }
sock() { echo "$(run_dir)/podman/podman.sock"; }
host() { echo "unix://$(sock)"; }
as_user() { runuser -u "$user" -- env HOME="/home/$user" XDG_RUNTIME_DIR="$(run_dir)" "$@"; }
answers() { curl -fsS --max-time 3 --unix-socket "$(sock)" http://d/_ping >/dev/null 2>&1; }

install_packages() {
  # dnsname: service names resolve between containers (Debian's Podman 4.3 uses CNI; Fedora's
  # aardvark-dns does the same).
  local wanted=(podman uidmap slirp4netns fuse-overlayfs catatonit golang-github-containernetworking-plugin-dnsname)
  local missing=()
  for p in "${wanted[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return
  say "installing ${missing[*]}"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
    >/tmp/devenv-apt-podman.log 2>&1 || { tail -n 20 /tmp/devenv-apt-podman.log >&2; exit 1; }
}

# Rootless Podman as Fedora and Alma ship it: native overlay storage (kernel 5.13+). Podman 4.3
# on Debian falls back to vfs, which copies the whole image for every container (seconds each).
use_overlay() {
  local conf=/home/$user/.config/containers/storage.conf probe
  grep -qs 'driver = "overlay"' "$conf" && return
  probe=$(mktemp -d /tmp/devenv-podman-probe.XXXXXX)
  chown "$user" "$probe"
  if as_user podman --root "$probe/root" --runroot "$probe/run" --storage-driver overlay info >/dev/null 2>&1; then
    say "switching $user's storage to overlay"
    pkill -u "$user" -f "podman system service" || true
    as_user podman system reset -f >/dev/null 2>&1 || true
    as_user mkdir -p "$(dirname "$conf")"
    printf '[storage]\ndriver = "overlay"\n' | as_user tee "$conf" >/dev/null
  else
    say "overlay storage does not work here for $user; keeping vfs (slow: every container copies its image)"
  fi
  as_user podman unshare rm -rf "$probe" 2>/dev/null; rm -rf "$probe"
}

serve() {
  as_user mkdir -p "$(run_dir)/podman"
  # setsid: the service outlives this script (and a make target's process group).
  as_user setsid podman system service --time=0 "$(host)" >/tmp/devenv-podman-service.log 2>&1 </dev/null &
  for _ in $(seq 1 30); do answers && break; sleep 0.5; done
  if ! answers && grep -q 'podman system migrate' /tmp/devenv-podman-service.log; then
    say "podman's rootless state is stale: podman system migrate, then again"
    as_user podman system migrate >/dev/null 2>&1 || true
    as_user setsid podman system service --time=0 "$(host)" >/tmp/devenv-podman-service.log 2>&1 </dev/null &
    for _ in $(seq 1 30); do answers && break; sleep 0.5; done
  fi
  answers || { tail -n 20 /tmp/devenv-podman-service.log >&2; say "podman system service did not answer"; exit 1; }
}

# Whether the service can start a container through its API (a service that answers _ping can
# still fail every start with "exit status 1" once its rootless state went bad).
starts() {
  local api="http://d/v1.41" id ok=1
  id=$(curl -fsS --max-time 30 --unix-socket "$(sock)" -H 'Content-Type: application/json' \
    -d '{"Image":"debian:bookworm-slim","Cmd":["true"]}' "$api/containers/create" 2>/dev/null \
    | sed -n 's/.*"Id":"\([0-9a-f]*\)".*/\1/p') || true
  [ -n "$id" ] || return 1
  curl -fsS --max-time 30 --unix-socket "$(sock)" -X POST "$api/containers/$id/start" >/dev/null 2>&1 && ok=0
  curl -fsS --max-time 30 --unix-socket "$(sock)" -X DELETE "$api/containers/$id?force=1" >/dev/null 2>&1 || true
  return $ok
}

start() {
  install_packages
  id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user"   # useradd adds /etc/subuid, /etc/subgid
  grep -q "^$user:" /etc/subuid || usermod --add-subuids 200000-265535 --add-subgids 200000-265535 "$user"
  # slirp4netns opens /dev/net/tun as the user.
  [ -c /dev/net/tun ] || { mkdir -p /dev/net; mknod /dev/net/tun c 10 200; }
  chmod 666 /dev/net/tun
  # No process of the user runs, yet its runtime directory holds state: a machine restored from
  # a snapshot, or one whose /run/user is not a tmpfs. Podman then looks for a pause process that
  # is gone ("invalid internal status … podman system migrate"); empty it as a reboot would.
  if ! pgrep -u "$user" >/dev/null && [ -d "$(run_dir)" ]; then
    find "$(run_dir)" -mindepth 1 -maxdepth 1 -exec rm -rf {} + 2>/dev/null || true
  fi
  install -d -m 700 -o "$user" -g "$user" "$(run_dir)"
  use_overlay
  answers || serve
  # The offline images, moved in from the rootful engine when missing or changed there.
  local tmp
  tmp=$(mktemp -d /tmp/devenv-podman-images.XXXXXX)
  chmod 755 "$tmp"
  for image in "${images[@]}"; do
    local want have
    want=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null) || { say "rootful engine has no $image: run 'make images'"; exit 1; }
    have=$(as_user podman image inspect -f '{{ index .Labels "dev.devenv.source-id" }}' "$image" 2>/dev/null || true)
    [ "$have" = "$want" ] && continue
    say "loading $image"
    # A one-line image on top records where it came from, so an unchanged image is not reloaded.
    printf 'FROM %s\nLABEL dev.devenv.source-id=%s\n' "$image" "$want" \
      | docker build -q -t "devenv-podman-load/$image" - >/dev/null 2>&1
    docker save "devenv-podman-load/$image" -o "$tmp/image.tar"
    docker rmi "devenv-podman-load/$image" >/dev/null
    chmod 644 "$tmp/image.tar"
    as_user podman load -q -i "$tmp/image.tar" >/dev/null
    as_user podman tag "localhost/devenv-podman-load/$image" "$image"
    as_user podman rmi "localhost/devenv-podman-load/$image" >/dev/null
    rm -f "$tmp/image.tar"
  done
  rm -rf "$tmp"
  if ! starts; then
    say "the service answers but cannot start a container: restarting it"
    pkill -u "$user" -f "podman system service" || true
    sleep 1
    serve
    starts || { tail -n 20 /tmp/devenv-podman-service.log >&2; say "podman cannot start a container"; exit 1; }
  fi
  host
}

case "${1:-start}" in
  start) start ;;
  host) host ;;
  matrix) echo "podman:DOCKER_HOST=$(host)" ;;
  stop) pkill -u "$user" -f "podman system service" || true ;;
  *) echo "usage: $0 start|host|stop" >&2; exit 2 ;;
esac
