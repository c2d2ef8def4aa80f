#!/bin/sh
# The official redis image's entrypoint contract, re-implemented for the local image.
set -e

# first arg is `-f` or `--some-option`, or a .conf file: run redis-server with it
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi

if [ "$1" = 'redis-server' ] && [ "$(id -u)" = '0' ]; then
  find . \! -user redis -exec chown redis '{}' +
  exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi

# The official image builds redis with protected mode off; Debian's is on.
if [ "$1" = 'redis-server' ]; then
  case " $* " in
    *" --protected-mode "*) ;;
    *) set -- "$@" --protected-mode no ;;
  esac
fi

umask 0077
exec "$@"
