# Fill database_endpoint and master_secret_arn from: terraform -chdir=../environment output (initialized for prod)
environment        = "prod"
region             = "eu-west-1"
database_endpoint  = "studio-prod.cluster-EXAMPLE.eu-west-1.rds.amazonaws.com"
master_secret_arn  = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:rds!cluster-EXAMPLE"
vault_ca_cert_file = "vault-ca.pem"
rds_ca_bundle_file = "global-bundle.pem"
