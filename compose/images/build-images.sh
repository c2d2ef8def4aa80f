#!/usr/bin/env bash
# Builds the offline drop-in images devenv's stacks name (debian:bookworm-slim,
# postgres:15, redis:7, nginx:1.22, and devenv-django:3.2, the base of the reference stacks'
# Python apps), each only when `docker image inspect` does not find it.
# No registry is reachable here: the base comes from debootstrap, the rest from apt.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
docker=${DOCKER:-docker}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

have() { "$docker" image inspect "$1" >/dev/null 2>&1; }
image_id() { "$docker" image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }

# The recipe's digest, stored as a label, so a changed recipe rebuilds the local image. It
# covers the image IDs of the recipe's FROM images too: a rebuilt base rebuilds what is on it.
# An image without the label came from a registry: it is left alone.
recipe_digest() {
  local dir=$here/$1 parents
  parents=$(awk 'toupper($1) == "FROM" { print $2 }' "$dir/Dockerfile" | while read -r from; do image_id "$from"; done)
  { (cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum); echo "$parents"; } | sha256sum | cut -c1-16
}

# The base recipe's version, a label on the imported image. Version 2 sets the root
# directory's mode: before it, `/` was 0700 (mktemp -d), and under rootless engines (Podman,
# whose vfs driver keeps the tarball's mode) no non-root process in a container could load libc.
base_recipe=base-2
# An image devenv imported (not pulled from a registry) by an older base recipe.
base_is_outdated() {
  [ "$("$docker" image inspect -f '{{.Comment}}' "$1")" = "Imported from -" ] && [ "$(label_of "$1")" != "$base_recipe" ]
}
label_of() { "$docker" image inspect -f '{{ index .Config.Labels "dev.devenv.recipe" }}' "$1" 2>/dev/null || true; }

build_base() {
  local tag=debian:bookworm-slim
  if have "$tag"; then
    if ! base_is_outdated "$tag"; then echo "images: $tag present"; return; fi
    echo "images: $tag was imported by an older recipe (root directory mode 0700); rebuilding it"
  fi
  command -v debootstrap >/dev/null || { echo "images: debootstrap missing: apt-get install debootstrap" >&2; exit 1; }
  local root
  root=$(mktemp -d /tmp/devenv-rootfs.XXXXXX)
  trap 'rm -rf "$root"' RETURN
  echo "images: building $tag with debootstrap (about 30 s)"
  debootstrap --variant=minbase bookworm "$root" "$mirror" >/tmp/devenv-debootstrap.log 2>&1 \
    || { echo "images: debootstrap failed, see /tmp/devenv-debootstrap.log" >&2; exit 1; }
  # Slim it like the official image: no apt lists, no docs, no caches.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/doc/* "$root"/usr/share/man/*
  # mktemp -d made the root 0700; the tarball carries that mode to `/` in every container.
  chmod 755 "$root"
  tar -C "$root" -c . | "$docker" import \
    -c 'CMD ["bash"]' -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c "LABEL dev.devenv.recipe=$base_recipe" \
    - "$tag" >/dev/null
  echo "images: $tag built"
}

build_dockerfile() {
  local tag=$1 dir=$2 digest current
  digest=$(recipe_digest "$dir")
  if have "$tag"; then
    current=$(label_of "$tag")
    if [ -z "$current" ] || [ "$current" = "<no value>" ] || [ "$current" = "$digest" ]; then
      echo "images: $tag present"; return
    fi
    echo "images: compose/images/$dir changed since $tag was built"
  fi
  echo "images: building $tag from compose/images/$dir"
  local log=/tmp/devenv-build-${dir}.log
  "$docker" build --label "dev.devenv.recipe=$digest" -t "$tag" "$here/$dir" >"$log" 2>&1 \
    || { tail -n 20 "$log" >&2; echo "images: building $tag failed, see $log" >&2; exit 1; }
  echo "images: $tag built"
}

build_base
build_dockerfile postgres:15 postgres
build_dockerfile redis:7 redis
build_dockerfile nginx:1.22 nginx
build_dockerfile devenv-django:3.2 django
