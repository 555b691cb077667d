# A local PostgreSQL writer and a streaming-replication reader, for ./run.sh and bench/run.sh (the tests build
# the same pair in C#, tests/TestKit/Postgres.cs). Both apply deploy/postgres/bootstrap.sql on first creation.
# shellcheck shell=bash

as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# pg_cluster_start DIR PRIMARY_PORT STANDBY_PORT — creates the pair on first use, starts it otherwise.
pg_cluster_start() {
  local dir=$1 primary_port=$2 standby_port=$3 bin; bin=$(pg_bin)
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
  if [ ! -f "$dir/primary/PG_VERSION" ]; then
    as_postgres "$bin/initdb" -D "$dir/primary" -U postgres -E UTF8 --locale=C --auth=trust >/dev/null
    cat >> "$dir/primary/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $primary_port
unix_socket_directories = '$dir'
max_connections = 300
wal_level = replica
max_wal_senders = 5
hot_standby = on
hot_standby_feedback = on
CONF
    cat > "$dir/primary/pg_hba.conf" <<HBA
local all all trust
host all postgres 127.0.0.1/32 trust
host replication replicator 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
HBA
    as_postgres "$bin/pg_ctl" -D "$dir/primary" -l "$dir/primary.log" -w start >/dev/null
    "$bin/psql" -q -h 127.0.0.1 -p "$primary_port" -U postgres -c "CREATE ROLE replicator REPLICATION LOGIN" >/dev/null
    "$bin/psql" -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$primary_port" -U postgres -d postgres -f deploy/postgres/bootstrap.sql >/dev/null
    as_postgres "$bin/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U replicator -D "$dir/standby" -R -X stream -c fast
    printf "port = %s\ncluster_name = 'standby'\n" "$standby_port" >> "$dir/standby/postgresql.conf"
  else
    as_postgres "$bin/pg_ctl" -D "$dir/primary" -l "$dir/primary.log" -w start >/dev/null
  fi
  as_postgres "$bin/pg_ctl" -D "$dir/standby" -l "$dir/standby.log" -w start >/dev/null
}

pg_cluster_stop() {
  local dir=$1 server
  for server in standby primary; do
    [ -f "$dir/$server/postmaster.pid" ] && as_postgres "$(pg_bin)/pg_ctl" -D "$dir/$server" -m fast -w stop >/dev/null 2>&1 || true
  done
}
