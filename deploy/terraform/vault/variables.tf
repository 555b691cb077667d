variable "environment" {
  description = "Environment whose Vault and Aurora this configures (dev, staging or prod)."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "region" {
  description = "Region of the environment (where the Aurora master secret lives)."
  type        = string
}

variable "vault_address" {
  description = "Vault as the operator reaches it: kubectl -n vault port-forward svc/vault 8200 through the bastion's tunnel to the EKS API."
  type        = string
  default     = "https://127.0.0.1:8200"
}

variable "vault_tls_server_name" {
  description = "Name in Vault's server certificate (issued by cert-manager's private CA), checked although the connection goes to 127.0.0.1."
  type        = string
  default     = "vault.vault.svc"
}

variable "vault_ca_cert_file" {
  description = "CA certificate of Vault's listener (the cert-manager private CA), exported from the cluster."
  type        = string
}

variable "database_endpoint" {
  description = "Aurora cluster endpoint (environment root output aurora_writer_endpoint). Vault connects to it from inside the cluster; Terraform connects through the bastion with this name mapped to 127.0.0.1 so VerifyFull still checks the RDS certificate."
  type        = string
}

variable "database_tunnel_port" {
  description = "Local port of the SSM port-forwarding session to the Aurora endpoint."
  type        = number
  default     = 5432
}

variable "rds_ca_bundle_file" {
  description = "RDS CA bundle on the operator's machine (https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem)."
  type        = string
}

variable "vault_rds_ca_bundle_path" {
  description = "The same RDS CA bundle inside the Vault pods (mounted by the Vault Helm values), for verify-full from Vault."
  type        = string
  default     = "/vault/userconfig/rds-ca/global-bundle.pem"
}

variable "master_secret_arn" {
  description = "RDS-managed master credential of the cluster (environment root output aurora_master_user_secret_arn); read ephemerally, never stored in state."
  type        = string
}

variable "vault_database_password_version" {
  description = "Generation of the password of Vault's own database role; raise it to set a new one (it is write-only and never in state)."
  type        = number
  default     = 1

  # With 0 the Vault provider (5.0) does not send the write-only password on creation, and Vault then fails to log in.
  validation {
    condition     = var.vault_database_password_version >= 1
    error_message = "vault_database_password_version starts at 1."
  }
}

variable "static_role_rotation_period_seconds" {
  description = "How often Vault rotates the services' database passwords. The services re-read /vault/secrets/database.json and open new connections with the new password."
  type        = number
  default     = 86400

  validation {
    condition     = var.static_role_rotation_period_seconds >= 3600
    error_message = "Rotate at most hourly: Vault Agent must render the new password before pooled connections are recycled."
  }
}
