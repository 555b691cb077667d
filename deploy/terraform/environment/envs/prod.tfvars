# prod: a reader in each AZ the writer is not in, reader auto-scaling, 35 days of point-in-time recovery, a daily
# snapshot copy in another region, and deletion protection. prod builds deploy here (manual sync in Argo CD).
environment = "prod"
region      = "eu-west-1"
dr_region   = "eu-central-1"
azs         = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
vpc_cidr    = "10.30.0.0/16"

domain_name    = "studio.example.com"
api_hostnames  = ["api.studio.example.com"]
media_hostname = "media.studio.example.com"

# Replace with the roles your operators assume (111122223333 is AWS's documentation account).
cluster_admin_role_arns = {
  platform-operators = "arn:aws:iam::111122223333:role/platform-operators"
}

kubernetes_version = "1.33"
node_groups = {
  general = {
    instance_types = ["m7i.xlarge"]
    min_size       = 1
    max_size       = 6
  }
}

aurora_instance_class = "db.r7g.xlarge"
aurora_reader_count   = 2
aurora_reader_autoscaling = {
  max_capacity = 5
  target_cpu   = 70
}
aurora_max_connections_alarm = 2000
backup_retention_days        = 35
deletion_protection          = true
cross_region_backup          = true

machine_clients = {
  integrations = { scopes = ["catalog/write", "assets/write"] }
}
