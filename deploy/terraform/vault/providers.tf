provider "aws" {
  region = var.region

  default_tags {
    tags = { Project = "studio", ManagedBy = "terraform", Root = "vault/${var.environment}" }
  }
}

# VAULT_TOKEN comes from the environment (the initial root token during bootstrap, an operator's token later).
provider "vault" {
  address         = var.vault_address
  tls_server_name = var.vault_tls_server_name
  ca_cert_file    = var.vault_ca_cert_file
}

# The master credential is read ephemerally: it configures this provider for one run and is never written to
# state or plan. RDS rotates it in Secrets Manager; nothing here keeps a copy.
ephemeral "aws_secretsmanager_secret_version" "master" {
  secret_id = var.master_secret_arn
}

locals {
  master = jsondecode(ephemeral.aws_secretsmanager_secret_version.master.secret_string)
}

provider "postgresql" {
  host            = var.database_endpoint
  port            = var.database_tunnel_port
  database        = "postgres"
  username        = local.master.username
  password        = local.master.password
  sslmode         = "verify-full"
  sslrootcert     = var.rds_ca_bundle_file
  superuser       = false
  connect_timeout = 15
}
