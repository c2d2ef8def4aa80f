#!/usr/bin/env bash
# A remote engine like GitLab CI's docker:dind, for the engine-matrix tests: a second dockerd in
# a network namespace, on a private address, speaking only TLS with client certificates; and an
# sshd on that address whose `docker system dial-stdio` reaches the same engine (ssh://).
#   remote-engine.sh start   make the namespace, the certificates, the engine and sshd, load the
#                            offline images; print the variables a TLS client needs (sh syntax)
#   remote-engine.sh env     print those variables
#   remote-engine.sh matrix  the engines for DEVENV_TEST_ENGINES: remote-tls:VAR=VALUE,...;ssh:...
#                            (certificates that must be refused are in $dir/bad/*)
#   remote-engine.sh stop    stop the engine and sshd, remove the namespace (data and keys stay)
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
matrix() {
  echo "remote-tls:DOCKER_HOST=tcp://$engine_addr:$port,DOCKER_TLS_VERIFY=1,DOCKER_CERT_PATH=$certs;ssh:DOCKER_HOST=ssh://devenv-remote,DEVENV_SSH=$dir/ssh/ssh"
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

# Client-side material that must be refused, for the bad-input tests: a CA that did not sign the
# engine's certificate, no client certificate, an expired one, and one from an unknown CA.
make_bad_certs() {
  local bad=$dir/bad
  [ -s "$bad/expired/cert.pem" ] && return
  local work
  work=$(mktemp -d)
  mkdir -p "$bad/wrong-ca" "$bad/no-client-cert" "$bad/expired" "$bad/unknown-client"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=another CA" \
    -keyout "$work/other-key.pem" -out "$work/other.pem" 2>/dev/null
  cp "$work/other.pem" "$bad/wrong-ca/ca.pem"
  cp "$certs/cert.pem" "$certs/key.pem" "$bad/wrong-ca/"
  cp "$certs/ca.pem" "$bad/no-client-cert/"
  cp "$certs/ca.pem" "$bad/expired/"
  cp "$certs/ca.pem" "$bad/unknown-client/"
  openssl req -newkey rsa:2048 -nodes -subj "/CN=devenv-client" -keyout "$bad/expired/key.pem" \
    -out "$work/expired.csr" 2>/dev/null
  touch "$work/index.txt"
  echo 1000 >"$work/serial"
  printf '%s\n' "[ ca ]" "default_ca = test" "[ test ]" "database = $work/index.txt" "new_certs_dir = $work" \
    "serial = $work/serial" "default_md = sha256" "policy = any" "[ any ]" "commonName = supplied" >"$work/ca.cnf"
  printf 'extendedKeyUsage=clientAuth\n' >"$work/client.ext"
  openssl ca -batch -config "$work/ca.cnf" -cert "$dir/ca/cert.pem" -keyfile "$dir/ca/key.pem" \
    -in "$work/expired.csr" -out "$bad/expired/cert.pem" -startdate 20200101000000Z -enddate 20200102000000Z \
    -extfile "$work/client.ext" -notext 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=devenv-client" -keyout "$bad/unknown-client/key.pem" \
    -out "$work/unknown.csr" 2>/dev/null
  openssl x509 -req -days 3650 -in "$work/unknown.csr" -CA "$work/other.pem" -CAkey "$work/other-key.pem" \
    -CAcreateserial -extfile "$work/client.ext" -out "$bad/unknown-client/cert.pem" 2>/dev/null
  chmod 644 "$bad"/*/*.pem
  rm -rf "$work"
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

# sshd on the engine's address: root logs in with a key of its own, and the session's DOCKER_HOST
# is the engine's unix socket, so `ssh devenv-remote docker system dial-stdio` reaches it. The
# client side is an ssh config with a Host alias (HostName is the address, as ~/.ssh/config
# often has it) and a wrapper for DEVENV_SSH that uses it.
make_sshd() {
  [ -x /usr/sbin/sshd ] || {
    say "installing openssh-server"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server openssh-client; } \
      >/tmp/devenv-apt-ssh.log 2>&1 || { tail -n 20 /tmp/devenv-apt-ssh.log >&2; exit 1; }
  }
  local ssh=$dir/ssh
  mkdir -p "$ssh" /run/sshd
  chmod 700 "$ssh"
  [ -s "$ssh/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$ssh/host_ed25519"
  [ -s "$ssh/client_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$ssh/client_ed25519"
  cp "$ssh/client_ed25519.pub" "$ssh/authorized_keys"
  printf '%s\n' "ListenAddress $engine_addr" "Port 22" "HostKey $ssh/host_ed25519" \
    "AuthorizedKeysFile $ssh/authorized_keys" "PidFile $ssh/sshd.pid" "PermitRootLogin prohibit-password" \
    "PasswordAuthentication no" "KbdInteractiveAuthentication no" "UsePAM no" "StrictModes no" \
    "SetEnv DOCKER_HOST=unix://$dir/docker.sock" >"$ssh/sshd_config"
  printf '%s\n' "Host devenv-remote" "  HostName $engine_addr" "  User root" "  IdentityFile $ssh/client_ed25519" \
    "  IdentitiesOnly yes" "  UserKnownHostsFile $ssh/known_hosts" "  StrictHostKeyChecking accept-new" >"$ssh/config"
  printf '#!/bin/sh\nexec ssh -F %s "$@"\n' "$ssh/config" >"$ssh/ssh"
  chmod 755 "$ssh/ssh"
  if ! { [ -s "$ssh/sshd.pid" ] && kill -0 "$(cat "$ssh/sshd.pid")" 2>/dev/null; }; then
    nsenter --net="/run/netns/$name" /usr/sbin/sshd -f "$ssh/sshd_config" -E "$ssh/sshd.log" \
      || { cat "$ssh/sshd.log" >&2; say "sshd did not start"; exit 1; }
  fi
  for _ in $(seq 1 20); do "$ssh/ssh" -o BatchMode=yes devenv-remote docker version >/dev/null 2>&1 && return; sleep 0.5; done
  say "'ssh devenv-remote docker version' does not work; see $ssh/sshd.log"
  exit 1
}

start() {
  command -v openssl >/dev/null || { say "openssl missing: apt-get install openssl"; exit 1; }
  make_certs
  make_bad_certs
  make_netns
  # An engine started before it also listened on the unix socket ssh sessions use: restart it.
  if answers && [ ! -S "$dir/docker.sock" ]; then stop_engine; fi
  if ! answers; then
    mkdir -p "$dir/data" "$dir/exec"
    say "starting dockerd in network namespace $name on tcp://$engine_addr:$port (log: $dir/dockerd.log)"
    # nsenter, not `ip netns exec`: that remounts /sys and dockerd then finds no devices cgroup.
    setsid nsenter --net="/run/netns/$name" dockerd \
      --host "tcp://$engine_addr:$port" --host "unix://$dir/docker.sock" --tlsverify \
      --tlscacert "$dir/server/ca.pem" --tlscert "$dir/server/cert.pem" --tlskey "$dir/server/key.pem" \
      --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
      --containerd-namespace devenv-remote --containerd-plugins-namespace devenv-remote-plugins \
      --default-address-pool base=10.144.0.0/12,size=24 \
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
  make_sshd
  variables
}

stop_engine() {
  if [ -s "$dir/dockerd.pid" ]; then
    kill "$(cat "$dir/dockerd.pid")" 2>/dev/null || true
    for _ in $(seq 1 40); do [ -e "$dir/dockerd.pid" ] || break; sleep 0.5; done
  fi
}

stop() {
  stop_engine
  [ -s "$dir/ssh/sshd.pid" ] && kill "$(cat "$dir/ssh/sshd.pid")" 2>/dev/null || true
  ip link del "$name-h" 2>/dev/null || true
  ip netns del "$name" 2>/dev/null || true
}

case "${1:-start}" in
  start) start ;;
  env) variables ;;
  matrix) matrix ;;
  stop) stop ;;
  *) echo "usage: $0 start|env|matrix|stop" >&2; exit 2 ;;
esac
