#!/usr/bin/env bash
# A remote engine like GitLab CI's docker:dind, for the engine-matrix tests: a second dockerd in
# a network namespace, on a private address, speaking only TLS with client certificates.
#   remote-engine.sh start   make the namespace, the certificates and the engine, load the
#                            offline images; print the variables a client needs (sh syntax)
#   remote-engine.sh env     print those variables
#   remote-engine.sh stop    stop the engine and remove the namespace (data and certs stay)
# Needs root and the rootful engine (the images come from it with `docker save`).
set -euo pipefail
name=${DEVENV_REMOTE_NETNS:-devenv-remote}
subnet=${DEVENV_REMOTE_SUBNET:-10.213.77}
host_addr=$subnet.1
engine_addr=$subnet.2
port=2376
dir=${DEVENV_REMOTE_DIR:-/var/lib/devenv-remote-engine}
certs=$dir/client
images=(${DEVENV_REMOTE_IMAGES:-debian:bookworm-slim postgres:15 redis:7})
say() { echo "remote-engine: $*" >&2; }

[ "$(id -u)" = 0 ] || { say "needs root (network namespace, dockerd)"; exit 1; }

variables() {
  echo "DOCKER_HOST=tcp://$engine_addr:$port"
  echo "DOCKER_TLS_VERIFY=1"
  echo "DOCKER_CERT_PATH=$certs"
}
client() { env DOCKER_HOST="tcp://$engine_addr:$port" DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH="$certs" docker "$@"; }
answers() { client version >/dev/null 2>&1; }

# A CA, a server certificate for the engine's address, and a client certificate, as dind makes.
make_certs() {
  [ -s "$certs/key.pem" ] && [ -s "$dir/server/key.pem" ] && return
  say "making TLS certificates in $dir"
  mkdir -p "$dir/ca" "$dir/server" "$certs"
  chmod 700 "$dir/ca"
  local days=3650
  openssl req -x509 -newkey rsa:2048 -nodes -days $days -subj "/CN=devenv test CA" \
    -keyout "$dir/ca/key.pem" -out "$dir/ca/cert.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$engine_addr" \
    -keyout "$dir/server/key.pem" -out "$dir/server/csr.pem" 2>/dev/null
  printf 'subjectAltName=IP:%s,DNS:docker,DNS:localhost\nextendedKeyUsage=serverAuth\n' "$engine_addr" >"$dir/server/ext.cnf"
  openssl x509 -req -days $days -in "$dir/server/csr.pem" -CA "$dir/ca/cert.pem" -CAkey "$dir/ca/key.pem" \
    -CAcreateserial -extfile "$dir/server/ext.cnf" -out "$dir/server/cert.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=devenv-client" \
    -keyout "$certs/key.pem" -out "$certs/csr.pem" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' >"$certs/ext.cnf"
  openssl x509 -req -days $days -in "$certs/csr.pem" -CA "$dir/ca/cert.pem" -CAkey "$dir/ca/key.pem" \
    -CAcreateserial -extfile "$certs/ext.cnf" -out "$certs/cert.pem" 2>/dev/null
  cp "$dir/ca/cert.pem" "$certs/ca.pem"
  cp "$dir/ca/cert.pem" "$dir/server/ca.pem"
  rm -f "$certs/csr.pem" "$certs/ext.cnf" "$dir/server/csr.pem"
  chmod 644 "$certs"/*.pem
}

make_netns() {
  ip netns list | grep -qw "^$name" || ip netns add "$name"
  if ! ip link show "$name-h" >/dev/null 2>&1; then
    ip link add "$name-h" type veth peer name "$name-e"
    ip link set "$name-e" netns "$name"
    ip addr add "$host_addr/24" dev "$name-h"
    ip link set "$name-h" up
    ip netns exec "$name" ip addr add "$engine_addr/24" dev "$name-e"
    ip netns exec "$name" ip link set "$name-e" up
    ip netns exec "$name" ip link set lo up
    ip netns exec "$name" ip route add default via "$host_addr"
  fi
  # Containers of the remote engine reach the Debian mirror (builds) through the host.
  sysctl -qw net.ipv4.ip_forward=1
  iptables -t nat -C POSTROUTING -s "$subnet.0/24" ! -o "$name-h" -j MASQUERADE 2>/dev/null \
    || iptables -t nat -A POSTROUTING -s "$subnet.0/24" ! -o "$name-h" -j MASQUERADE
  iptables -C FORWARD -i "$name-h" -j ACCEPT 2>/dev/null || iptables -I FORWARD -i "$name-h" -j ACCEPT
  iptables -C FORWARD -o "$name-h" -j ACCEPT 2>/dev/null || iptables -I FORWARD -o "$name-h" -j ACCEPT
}

start() {
  command -v openssl >/dev/null || { say "openssl missing: apt-get install openssl"; exit 1; }
  make_certs
  make_netns
  if ! answers; then
    mkdir -p "$dir/data" "$dir/exec"
    say "starting dockerd in network namespace $name on tcp://$engine_addr:$port (log: $dir/dockerd.log)"
    # nsenter, not `ip netns exec`: that remounts /sys and dockerd then finds no devices cgroup.
    setsid nsenter --net="/run/netns/$name" dockerd \
      --host "tcp://$engine_addr:$port" --tlsverify \
      --tlscacert "$dir/server/ca.pem" --tlscert "$dir/server/cert.pem" --tlskey "$dir/server/key.pem" \
      --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
      --containerd-namespace devenv-remote --containerd-plugins-namespace devenv-remote-plugins \
      >"$dir/dockerd.log" 2>&1 </dev/null &
    for _ in $(seq 1 60); do answers && break; sleep 1; done
    answers || { tail -n 20 "$dir/dockerd.log" >&2; say "dockerd did not answer within 60 s"; exit 1; }
  fi
  for image in "${images[@]}"; do
    local want have
    want=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null) || { say "rootful engine has no $image: run 'make images'"; exit 1; }
    have=$(client image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
    [ "$have" = "$want" ] && continue
    say "loading $image"
    docker save "$image" | client load -q >/dev/null
  done
  variables
}

stop() {
  if [ -s "$dir/dockerd.pid" ]; then
    kill "$(cat "$dir/dockerd.pid")" 2>/dev/null || true
    for _ in $(seq 1 20); do [ -e "$dir/dockerd.pid" ] || break; sleep 0.5; done
  fi
  ip link del "$name-h" 2>/dev/null || true
  ip netns del "$name" 2>/dev/null || true
}

case "${1:-start}" in
  start) start ;;
  env) variables ;;
  stop) stop ;;
  *) echo "usage: $0 start|env|stop" >&2; exit 2 ;;
esac
