module "environment" {
  source = "../modules/environment"

  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
    aws.dr        = aws.dr
  }

  environment                  = var.environment
  vpc_cidr                     = var.vpc_cidr
  azs                          = var.azs
  domain_name                  = var.domain_name
  api_hostnames                = var.api_hostnames
  media_hostname               = var.media_hostname
  kubernetes_version           = var.kubernetes_version
  node_groups                  = var.node_groups
  cluster_admin_role_arns      = var.cluster_admin_role_arns
  aurora_instance_class        = var.aurora_instance_class
  aurora_reader_count          = var.aurora_reader_count
  aurora_reader_autoscaling    = var.aurora_reader_autoscaling
  aurora_max_connections_alarm = var.aurora_max_connections_alarm
  backup_retention_days        = var.backup_retention_days
  deletion_protection          = var.deletion_protection
  cross_region_backup          = var.cross_region_backup
  machine_clients              = var.machine_clients
  alarm_email                  = var.alarm_email
  origin_secret_version        = var.origin_secret_version
}
