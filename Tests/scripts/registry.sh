#!/usr/bin/env bash
# A private registry that needs a login, for the registry-credential tests: Debian's
# docker-registry (distribution 2.8) with an htpasswd file on 127.0.0.1:$PORT (dockerd allows
# plain HTTP to 127.0.0.0/8 registries), holding a small image under the tags the tests pull.
#   registry.sh start   install if missing (root), start, push the test image; print its address
#   registry.sh env     print DEVENV_TEST_REGISTRY=HOST:PORT, _USER and _PASSWORD
#   registry.sh stop
set -euo pipefail
port=${DEVENV_TEST_REGISTRY_PORT:-55000}
dir=${DEVENV_TEST_REGISTRY_DIR:-/var/lib/devenv-test-registry}
user=devenv-ci
password=devenv-registry-test
address=127.0.0.1:$port
say() { echo "registry: $*" >&2; }

variables() {
  echo "DEVENV_TEST_REGISTRY=$address"
  echo "DEVENV_TEST_REGISTRY_USER=$user"
  echo "DEVENV_TEST_REGISTRY_PASSWORD=$password"
}
answers() { curl -s -o /dev/null --max-time 2 "http://$address/v2/"; }

start() {
  local missing=()
  command -v docker-registry >/dev/null || missing+=(docker-registry)
  command -v htpasswd >/dev/null || missing+=(apache2-utils)
  if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || { say "missing ${missing[*]}; run as root or apt-get install them"; exit 1; }
    say "installing ${missing[*]}"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
      >/tmp/devenv-apt-registry.log 2>&1 || { tail -n 20 /tmp/devenv-apt-registry.log >&2; exit 1; }
  fi
  mkdir -p "$dir/data"
  htpasswd -Bbn "$user" "$password" >"$dir/htpasswd" 2>/dev/null
  cat >"$dir/config.yml" <<YAML
version: 0.1
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: $address
auth:
  htpasswd:
    realm: devenv-test
    path: $dir/htpasswd
YAML
  if ! answers; then
    setsid docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 </dev/null &
    for _ in $(seq 1 30); do answers && break; sleep 0.3; done
    answers || { tail -n 20 "$dir/registry.log" >&2; say "docker-registry did not answer on $address"; exit 1; }
  fi
  # The test image, pushed with a login of its own (never the user's ~/.docker).
  local config
  config=$(mktemp -d /tmp/devenv-registry-login.XXXXXX)
  trap 'rm -rf "$config"' RETURN
  echo "$password" | DOCKER_CONFIG=$config docker login -u "$user" --password-stdin "$address" >/dev/null 2>&1 \
    || { say "docker login $address failed"; exit 1; }
  for tag in auths helper build killed-pull pull-command; do
    local image=$address/devenv-test/private:$tag
    if ! DOCKER_CONFIG=$config docker manifest inspect --insecure "$image" >/dev/null 2>&1; then
      printf 'FROM debian:bookworm-slim\nLABEL dev.devenv.test=private-%s\n' "$tag" \
        | docker build -q -t "$image" - >/dev/null 2>&1
      DOCKER_CONFIG=$config docker push -q "$image" >/dev/null || { say "push of $image failed"; exit 1; }
      docker rmi "$image" >/dev/null
    fi
  done
  echo "$address"
}

case "${1:-start}" in
  start) start ;;
  env) variables ;;
  stop) pkill -f "docker-registry serve $dir/config.yml" || true ;;
  *) echo "usage: $0 start|env|stop" >&2; exit 2 ;;
esac
