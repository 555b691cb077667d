# Vault's configuration for one environment, and the databases and roles its database secrets engine manages.
# Names are contracts with the chart (deploy/helm): the chart renders service accounts catalog, catalog-migrator,
# assets and assets-migrator in namespace studio, annotates each pod with vault.hashicorp.com/role = its service
# account, and renders /vault/secrets/database.json from database/static-creds/<static role>.
locals {
  namespace = "studio"

  # Kubernetes-auth role (= service account name) => the one static role whose credentials it may read.
  workload_roles = {
    catalog          = "catalog-app"
    catalog-migrator = "catalog-migrator"
    assets           = "assets-app"
    assets-migrator  = "assets-migrator"
  }

  # Static role => database user and the database it belongs to (the same objects as deploy/postgres/bootstrap.sql).
  static_roles = {
    catalog-app      = { username = "catalog_app", database = "catalog" }
    catalog-migrator = { username = "catalog_migrator", database = "catalog" }
    assets-app       = { username = "assets_app", database = "assets" }
    assets-migrator  = { username = "assets_migrator", database = "assets" }
  }

  # Database => its migrator (owner of the database and its schema) and its application role (DML only).
  databases = {
    catalog = { owner = "catalog_migrator", app = "catalog_app" }
    assets  = { owner = "assets_migrator", app = "assets_app" }
  }
}

resource "vault_audit" "stdout" {
  type        = "file"
  path        = "stdout"
  description = "Every request, HMAC-ed, to the pod log (shipped by fluent-bit)"

  options = {
    file_path = "stdout"
  }
}

resource "vault_auth_backend" "kubernetes" {
  type        = "kubernetes"
  path        = "kubernetes"
  description = "Pods log in with their service account token"
}

# Vault runs in the cluster: it validates tokens through the TokenReview API with its own service account
# (the Vault chart binds it to system:auth-delegator) and the in-cluster CA.
resource "vault_kubernetes_auth_backend_config" "this" {
  backend         = vault_auth_backend.kubernetes.path
  kubernetes_host = "https://kubernetes.default.svc"
}

resource "vault_policy" "workload" {
  for_each = local.workload_roles

  name   = each.key
  policy = <<-EOT
    # ${each.key}: the database credentials of static role ${each.value}, nothing else.
    path "${vault_database_secrets_mount.this.path}/static-creds/${each.value}" {
      capabilities = ["read"]
    }
  EOT
}

resource "vault_kubernetes_auth_backend_role" "workload" {
  for_each = local.workload_roles

  backend                          = vault_auth_backend.kubernetes.path
  role_name                        = each.key
  bound_service_account_names      = [each.key]
  bound_service_account_namespaces = [local.namespace]
  token_policies                   = [vault_policy.workload[each.key].name]
  token_ttl                        = 3600
  token_max_ttl                    = 86400
}
