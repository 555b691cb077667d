# Secrets of the platform components (Argo CD repository credentials, Image Updater's git key, Alertmanager
# receivers, Grafana admin) live in a KV v2 mount written by operators (vault kv put platform/...), never in Git
# or in Terraform. External Secrets Operator copies them into Kubernetes Secrets: it logs in with Kubernetes auth
# as its own service account and may read platform/ only. It needs no AWS role.
resource "vault_mount" "platform" {
  path        = "platform"
  type        = "kv"
  description = "Platform component secrets, synced into the cluster by External Secrets Operator"

  options = {
    version = "2"
  }
}

resource "vault_policy" "external_secrets" {
  name   = "external-secrets"
  policy = <<-EOT
    path "${vault_mount.platform.path}/data/*" {
      capabilities = ["read"]
    }
    path "${vault_mount.platform.path}/metadata/*" {
      capabilities = ["read", "list"]
    }
  EOT
}

resource "vault_kubernetes_auth_backend_role" "external_secrets" {
  backend                          = vault_auth_backend.kubernetes.path
  role_name                        = "external-secrets"
  bound_service_account_names      = ["external-secrets"]
  bound_service_account_namespaces = ["external-secrets"]
  token_policies                   = [vault_policy.external_secrets.name]
  token_ttl                        = 3600
  token_max_ttl                    = 86400
}

# The snapshot CronJob (deploy/gitops/platform/manifests/vault-backup): open-source Vault has no automated snapshots,
# so a job takes one hourly with `vault operator raft snapshot save`, which reads sys/storage/raft/snapshot. This
# policy allows that path and nothing else; the token lives minutes.
resource "vault_policy" "raft_snapshot" {
  name   = "vault-snapshot"
  policy = <<-EOT
    path "sys/storage/raft/snapshot" {
      capabilities = ["read"]
    }
  EOT
}

resource "vault_kubernetes_auth_backend_role" "raft_snapshot" {
  backend                          = vault_auth_backend.kubernetes.path
  role_name                        = "vault-snapshot"
  bound_service_account_names      = ["vault-snapshot"]
  bound_service_account_namespaces = ["vault"]
  token_policies                   = [vault_policy.raft_snapshot.name]
  token_ttl                        = 300
  token_max_ttl                    = 900
}
