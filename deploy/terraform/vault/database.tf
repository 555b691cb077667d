# The databases, schemas and least-privilege roles of deploy/postgres/bootstrap.sql, created on Aurora with the
# RDS-managed master credential. No passwords are set here: Vault's static roles set and rotate them.
resource "postgresql_role" "service" {
  for_each = local.static_roles

  name  = each.value.username
  login = true
}

resource "postgresql_database" "this" {
  for_each = local.databases

  name  = each.key
  owner = postgresql_role.service["${each.key}-migrator"].name
}

resource "postgresql_grant" "database_public" {
  for_each = local.databases

  database    = postgresql_database.this[each.key].name
  role        = "public"
  object_type = "database"
  privileges  = []
}

resource "postgresql_grant" "database_connect" {
  for_each = local.databases

  database    = postgresql_database.this[each.key].name
  role        = each.value.app
  object_type = "database"
  privileges  = ["CONNECT"]

  depends_on = [postgresql_role.service]
}

resource "postgresql_grant" "public_schema" {
  for_each = local.databases

  database    = postgresql_database.this[each.key].name
  schema      = "public"
  role        = "public"
  object_type = "schema"
  privileges  = []
}

resource "postgresql_schema" "this" {
  for_each = local.databases

  name     = each.key
  database = postgresql_database.this[each.key].name
  owner    = each.value.owner

  policy {
    role  = each.value.app
    usage = true
  }

  depends_on = [postgresql_role.service]
}

resource "postgresql_default_privileges" "tables" {
  for_each = local.databases

  database    = postgresql_database.this[each.key].name
  schema      = postgresql_schema.this[each.key].name
  owner       = each.value.owner
  role        = each.value.app
  object_type = "table"
  privileges  = ["SELECT", "INSERT", "UPDATE", "DELETE"]
}

resource "postgresql_default_privileges" "sequences" {
  for_each = local.databases

  database    = postgresql_database.this[each.key].name
  schema      = postgresql_schema.this[each.key].name
  owner       = each.value.owner
  role        = each.value.app
  object_type = "sequence"
  privileges  = ["USAGE", "SELECT"]
}

# Vault's own login. Not the master user: RDS rotates that password in Secrets Manager, which would silently
# break a copy held by Vault. CREATEROLE plus ADMIN OPTION on exactly the four service roles is what
# ALTER ROLE ... PASSWORD needs (PostgreSQL 16), and nothing more: NOINHERIT, so the login never has the service
# roles' privileges. The password is ephemeral: generated for the run, written to PostgreSQL and to Vault
# (write-only attributes), stored nowhere else.
ephemeral "random_password" "vault" {
  length  = 40
  special = false
}

resource "postgresql_role" "vault" {
  name                = "vault"
  login               = true
  create_role         = true
  inherit             = false
  password_wo         = ephemeral.random_password.vault.result
  password_wo_version = var.vault_database_password_version
}

resource "postgresql_grant_role" "vault" {
  for_each = postgresql_role.service

  role              = postgresql_role.vault.name
  grant_role        = each.value.name
  with_admin_option = true
}

# The provider grants membership WITH ADMIN OPTION only; PostgreSQL 16 then gives the membership SET TRUE by default,
# so the login could SET ROLE to a service role and read its data. postgresql_grant_role has no INHERIT/SET options
# (cyrilgdn/terraform-provider-postgresql#574), so the grant is restated with them by psql, from the file compose
# applies too (deploy/postgres/vault-login.sql; restating a membership's grant updates its options), as the master
# user through the operator's tunnel, whenever the memberships are (re)created or the file changes (its hash is a
# trigger: an edit of the grant must reach Aurora). Needs psql on the operator's machine.
resource "terraform_data" "vault_grant_options" {
  triggers_replace = concat(
    [for grant in postgresql_grant_role.vault : grant.id],
    [filesha256("${path.module}/../../postgres/vault-login.sql")],
  )

  provisioner "local-exec" {
    command = "psql -v ON_ERROR_STOP=1 -f ${path.module}/../../postgres/vault-login.sql"

    environment = {
      PGHOST        = var.database_endpoint
      PGPORT        = var.database_tunnel_port
      PGDATABASE    = "postgres"
      PGUSER        = local.master.username
      PGPASSWORD    = local.master.password
      PGSSLMODE     = "verify-full"
      PGSSLROOTCERT = var.rds_ca_bundle_file
    }
  }
}

resource "vault_database_secrets_mount" "this" {
  path        = "database"
  description = "Aurora PostgreSQL of ${var.environment}: static roles with rotated passwords"

  postgresql {
    name                    = "aurora"
    plugin_name             = "postgresql-database-plugin"
    connection_url          = "postgresql://{{username}}:{{password}}@${var.database_endpoint}:5432/postgres?sslmode=verify-full&sslrootcert=${var.vault_rds_ca_bundle_path}"
    username                = postgresql_role.vault.name
    password_wo             = ephemeral.random_password.vault.result
    password_wo_version     = var.vault_database_password_version
    password_authentication = "scram-sha-256"
    verify_connection       = true
    max_open_connections    = 4
    allowed_roles           = keys(local.static_roles)
  }

  depends_on = [terraform_data.vault_grant_options]
}

resource "vault_database_secret_backend_static_role" "this" {
  for_each = local.static_roles

  backend             = vault_database_secrets_mount.this.path
  name                = each.key
  db_name             = vault_database_secrets_mount.this.postgresql[0].name
  username            = each.value.username
  rotation_period     = var.static_role_rotation_period_seconds
  rotation_statements = ["ALTER ROLE \"{{name}}\" WITH PASSWORD '{{password}}';"]
}
