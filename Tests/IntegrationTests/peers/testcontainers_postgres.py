"""A real client of the official postgres image, unchanged, against the local postgres:15.

testcontainers-python starts the container with POSTGRES_USER/PASSWORD/DB=test and waits
until psql works inside it; then psycopg2 connects from the host through the published port.
Ryuk (its reaper sidecar) cannot be pulled here, so TESTCONTAINERS_RYUK_DISABLED=true.
"""
import json
import os
import sys

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")

import psycopg2  # noqa: E402
from testcontainers.postgres import PostgresContainer  # noqa: E402

with PostgresContainer("postgres:15") as pg:
    connection = psycopg2.connect(
        host=pg.get_container_host_ip(),
        port=pg.get_exposed_port(5432),
        user=pg.username,
        password=pg.password,
        dbname=pg.dbname,
    )
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_database(), current_setting('server_version_num')::int, "
                       "current_setting('server_encoding')")
        user, database, version, encoding = cursor.fetchone()
        cursor.execute("CREATE TABLE t (id serial PRIMARY KEY, v text)")
        cursor.execute("INSERT INTO t (v) VALUES (%s) RETURNING id", ("x",))
        (row_id,) = cursor.fetchone()
    connection.close()
    json.dump({"user": user, "database": database, "version": version, "encoding": encoding, "id": row_id},
              sys.stdout)
    print()
