# staging: production instance classes at lower counts, so performance and failover tests mean something.
# staging builds deploy here.
environment = "staging"
region      = "eu-west-1"
dr_region   = "eu-central-1"
azs         = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
vpc_cidr    = "10.20.0.0/16"

domain_name    = "studio.example.com"
api_hostnames  = ["api.staging.studio.example.com"]
media_hostname = "media.staging.studio.example.com"

# Replace with the roles your operators assume (111122223333 is AWS's documentation account).
cluster_admin_role_arns = {
  platform-operators = "arn:aws:iam::111122223333:role/platform-operators"
}

kubernetes_version = "1.33"
node_groups = {
  general = {
    instance_types = ["m7i.large"]
    min_size       = 1
    max_size       = 4
  }
}

aurora_instance_class        = "db.r7g.large"
aurora_reader_count          = 1
aurora_max_connections_alarm = 800
backup_retention_days        = 7
deletion_protection          = true
cross_region_backup          = false

machine_clients = {
  integrations = { scopes = ["catalog/write", "assets/write"] }
}
