#!/bin/sh
# One-shot configuration of the dev Vault, the local counterpart of deploy/terraform/vault:
#   - the database secrets engine connected to the primary, with one static role per service identity
#     (fixed PostgreSQL user, password owned and rotated by Vault);
#   - one policy per role that can read only that role's credentials;
#   - one AppRole per role for the Vault Agent containers (Kubernetes auth plays this part in a cluster). Each role's
#     role-id and secret-id are written into that role's own volume, which only its agent mounts.
# The dev server keeps everything in memory, so this runs on every `docker compose up` and is idempotent.
set -eu
: "${VAULT_ADDR:?}" "${VAULT_TOKEN:?}" "${VAULT_DB_PASSWORD:?}"

ROLES="catalog-app catalog-migrator assets-app assets-migrator"

vault secrets list | grep -q '^database/' || vault secrets enable database
vault auth list | grep -q '^approle/' || vault auth enable approle

# The vault login's password is not rotated (database/rotate-root): the dev server forgets its state on restart
# while the primary's volume persists, and the next run must still be able to connect.
vault write database/config/postgres \
  plugin_name=postgresql-database-plugin \
  connection_url='postgresql://{{username}}:{{password}}@postgres-primary:5432/postgres?sslmode=disable' \
  username=vault password="$VAULT_DB_PASSWORD" \
  password_authentication=scram-sha-256 \
  allowed_roles="$(echo "$ROLES" | tr ' ' ',')"

for role in $ROLES; do
  # Creating a static role rotates its password at once: from here on only Vault knows it, and the dev-only
  # password from bootstrap.sql stops working. One hour makes rotation (and the services' reload) visible locally.
  vault write "database/static-roles/$role" db_name=postgres username="$(echo "$role" | tr - _)" rotation_period=1h

  vault policy write "$role" - <<POLICY
path "database/static-creds/$role" {
  capabilities = ["read"]
}
POLICY

  vault write "auth/approle/role/$role" token_policies="$role" token_ttl=1h token_max_ttl=24h
  credentials="/approle/$role"
  vault read -field=role_id "auth/approle/role/$role/role-id" > "$credentials/role-id"
  vault write -f -field=secret_id "auth/approle/role/$role/secret-id" > "$credentials/secret-id"
  # The agent runs as the image's vault user; nobody else needs to read these.
  chown vault:vault "$credentials" "$credentials/role-id" "$credentials/secret-id"
  chmod 0400 "$credentials/role-id" "$credentials/secret-id"
done
echo "vault-init: database engine, static roles, policies and AppRoles ready for: $ROLES"
