#!/bin/sh
# Runs once, when the primary's data directory is created (docker-entrypoint-initdb.d), after
# deploy/postgres/bootstrap.sql has created the databases and the services' roles. Adds what only compose needs:
#   - replicator: streams WAL to the replica (the reader endpoint);
#   - vault: the login Vault's database secrets engine uses to rotate the four static roles' passwords, with
#     ADMIN on those roles only and neither their privileges nor SET ROLE (deploy/postgres/vault-login.sql, the same
#     grant Terraform makes on Aurora).
# Passwords come from the environment; docker-compose.yml marks them dev-only.
set -eu

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v replicator_password="$REPLICATOR_PASSWORD" -v vault_password="$VAULT_DB_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH LOGIN REPLICATION PASSWORD :'replicator_password';
CREATE ROLE vault WITH LOGIN CREATEROLE NOINHERIT PASSWORD :'vault_password';
SQL
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -f /compose/vault-login.sql

# Replication connections match only pg_hba lines naming the "replication" database.
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
