# dev: the smallest environment that still has the production shape (3 AZs, a NAT gateway per AZ, writer and
# reader in different AZs), so failover and blue-green behave as in prod. develop builds deploy here.
environment = "dev"
region      = "eu-west-1"
dr_region   = "eu-central-1"
azs         = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
vpc_cidr    = "10.10.0.0/16"

domain_name    = "studio.example.com"
api_hostnames  = ["api.dev.studio.example.com"]
media_hostname = "media.dev.studio.example.com"

# Replace with the roles your operators assume (111122223333 is AWS's documentation account).
cluster_admin_role_arns = {
  platform-operators = "arn:aws:iam::111122223333:role/platform-operators"
}

kubernetes_version = "1.33"
node_groups = {
  general = {
    instance_types = ["m7i.large", "m6i.large"]
    capacity_type  = "SPOT"
    min_size       = 1
    max_size       = 3
  }
}

aurora_instance_class        = "db.t4g.medium"
aurora_reader_count          = 1
aurora_max_connections_alarm = 300
backup_retention_days        = 3
deletion_protection          = false
cross_region_backup          = false

machine_clients = {
  integrations = { scopes = ["catalog/write", "assets/write"] }
}
