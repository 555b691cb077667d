output "kubernetes_auth_roles" {
  description = "Kubernetes-auth role => namespace/service account bound to it."
  value = merge(
    { for role in vault_kubernetes_auth_backend_role.workload : role.role_name => "${local.namespace}/${one(role.bound_service_account_names)}" },
    { (vault_kubernetes_auth_backend_role.external_secrets.role_name) = "external-secrets/external-secrets" },
  )
}

output "static_credentials_paths" {
  description = "Static role => the path Vault Agent templates read."
  value       = { for name, role in vault_database_secret_backend_static_role.this : name => "${vault_database_secrets_mount.this.path}/static-creds/${role.name}" }
}

output "platform_kv_mount" {
  description = "KV v2 mount the platform secrets are written to."
  value       = vault_mount.platform.path
}
