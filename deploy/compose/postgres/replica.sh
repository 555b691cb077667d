#!/bin/sh
# The reader endpoint: a hot standby streaming from the primary, the way an Aurora reader serves the writer's data
# moments later. The first start clones the primary (pg_basebackup -R writes the standby configuration); later
# starts resume streaming from where the volume left off. Runs as the postgres user (the compose service sets it).
set -eu

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_basebackup --host=postgres-primary --username=replicator --pgdata="$PGDATA" \
      --write-recovery-conf --wal-method=stream --checkpoint=fast; do
    echo "replica: waiting for the primary to accept a base backup" >&2
    rm -rf "${PGDATA:?}"/*
    sleep 2
  done
  # The image creates the directory world-writable; PostgreSQL refuses to start on it.
  chmod 0700 "$PGDATA"
fi

# max_connections must be at least the primary's, or a hot standby refuses to start.
exec postgres -c max_connections=200 -c hot_standby_feedback=on
