#!/bin/bash
set -e
export PGPASSWORD="$DJANGO_DATABASE_PASSWORD"
until psql -h "$DJANGO_DATABASE_HOST" -U "$DJANGO_DATABASE_USER" -d "$DJANGO_DATABASE_NAME" -q \
    -c 'CREATE TABLE IF NOT EXISTS runs (id serial PRIMARY KEY, note text)' >/dev/null 2>&1; do
  sleep 0.2
done
touch /tmp/ready
echo "backend ready (log level $LOG_LEVEL)"
exec sleep infinity
