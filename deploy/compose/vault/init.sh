#!/bin/sh
# One-shot configuration of the dev Vault, the local counterpart of deploy/terraform/vault, with the same names:
#   - the database secrets engine connected to the primary, with a static role per database user (fixed
#     PostgreSQL user, password owned and rotated by Vault);
#   - per workload identity (the service account in the cluster), a policy that reads only its static role's
#     credentials, and an AppRole standing in for the Kubernetes auth role. Each identity's role-id and secret-id are
#     written into that identity's own volume, which only its Vault Agent mounts.
# The dev server keeps everything in memory, so this runs on every `docker compose up` and is idempotent.
set -eu
: "${VAULT_ADDR:?}" "${VAULT_TOKEN:?}" "${VAULT_DB_PASSWORD:?}"

# identity=static role, as workload_roles in deploy/terraform/vault/main.tf.
WORKLOADS="catalog=catalog-app catalog-migrator=catalog-migrator assets=assets-app assets-migrator=assets-migrator"
static_roles=$(for workload in $WORKLOADS; do printf '%s,' "${workload#*=}"; done)

vault secrets list | grep -q '^database/' || vault secrets enable database
vault auth list | grep -q '^approle/' || vault auth enable approle

# The vault login's password is not rotated (database/rotate-root): the dev server forgets its state on restart
# while the primary's volume persists, and the next run must still be able to connect.
vault write database/config/postgres \
  plugin_name=postgresql-database-plugin \
  connection_url='postgresql://{{username}}:{{password}}@postgres-primary:5432/postgres?sslmode=disable' \
  username=vault password="$VAULT_DB_PASSWORD" \
  password_authentication=scram-sha-256 \
  allowed_roles="${static_roles%,}"

for workload in $WORKLOADS; do
  identity=${workload%%=*}
  role=${workload#*=}

  # Creating a static role rotates its password at once: from here on only Vault knows it, and the dev-only
  # password from bootstrap.sql stops working. Hourly (the shortest period deploy/terraform/vault allows) makes
  # rotation, and the services picking up the new password, visible locally.
  vault write "database/static-roles/$role" db_name=postgres username="$(echo "$role" | tr - _)" rotation_period=1h

  vault policy write "$identity" - <<POLICY
path "database/static-creds/$role" {
  capabilities = ["read"]
}
POLICY

  vault write "auth/approle/role/$identity" token_policies="$identity" token_ttl=1h token_max_ttl=24h
  credentials="/approle/$identity"
  vault read -field=role_id "auth/approle/role/$identity/role-id" > "$credentials/role-id"
  vault write -f -field=secret_id "auth/approle/role/$identity/secret-id" > "$credentials/secret-id"
  # The agent runs as the image's vault user; nobody else needs to read these.
  chown vault:vault "$credentials" "$credentials/role-id" "$credentials/secret-id"
  chmod 0400 "$credentials/role-id" "$credentials/secret-id"
done
echo "vault-init: database engine, static roles, policies and AppRoles ready: $WORKLOADS"
