locals {
  port = 5432

  # Instance names carry no role: a failover makes a reader the writer.
  readers = { for index, az in var.reader_availability_zones : tostring(index + 2) => az }

  writer_identifier    = "${var.name}-1"
  instance_identifiers = toset(concat([local.writer_identifier], [for key in keys(local.readers) : "${var.name}-${key}"]))
}

data "aws_partition" "current" {}

resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids

  tags = var.tags
}

resource "aws_security_group" "this" {
  name        = "${var.name}-aurora"
  description = "PostgreSQL from the EKS workloads (and the bastion's tunnel) only"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-aurora" })
}

resource "aws_vpc_security_group_ingress_rule" "this" {
  for_each = var.allowed_security_group_ids

  security_group_id            = aws_security_group.this.id
  description                  = "PostgreSQL from ${each.key}"
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = local.port
  to_port                      = local.port
}

resource "aws_rds_cluster_parameter_group" "this" {
  name        = var.name
  family      = "aurora-postgresql${split(".", var.engine_version)[0]}"
  description = "TLS-only connections and slow statement logging for ${var.name}"

  # The services connect with SSL Mode=VerifyFull; the server refuses anything unencrypted as well.
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "ssl_min_protocol_version"
    value = "TLSv1.2"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = tostring(var.log_min_duration_statement_ms)
  }

  parameter {
    name         = "shared_preload_libraries"
    value        = "pg_stat_statements"
    apply_method = "pending-reboot"
  }

  tags = var.tags
}

resource "aws_rds_cluster" "this" {
  cluster_identifier = var.name
  engine             = "aurora-postgresql"
  engine_version     = var.engine_version
  engine_mode        = "provisioned"
  storage_type       = var.storage_type
  port               = local.port

  master_username               = var.master_username
  manage_master_user_password   = true
  master_user_secret_kms_key_id = var.kms_key_arn

  db_subnet_group_name            = aws_db_subnet_group.this.name
  vpc_security_group_ids          = [aws_security_group.this.id]
  db_cluster_parameter_group_name = aws_rds_cluster_parameter_group.this.name

  storage_encrypted = true
  kms_key_id        = var.kms_key_arn

  backup_retention_period      = var.backup_retention_period
  preferred_backup_window      = var.preferred_backup_window
  preferred_maintenance_window = var.preferred_maintenance_window
  copy_tags_to_snapshot        = true
  deletion_protection          = var.deletion_protection
  skip_final_snapshot          = var.skip_final_snapshot
  final_snapshot_identifier    = var.skip_final_snapshot ? null : "${var.name}-final"
  apply_immediately            = var.apply_immediately

  enabled_cloudwatch_logs_exports = ["postgresql"]

  tags = var.tags
}

data "aws_iam_policy_document" "monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "monitoring" {
  count = var.monitoring_interval > 0 ? 1 : 0

  name               = "${var.name}-rds-monitoring"
  assume_role_policy = data.aws_iam_policy_document.monitoring_assume.json

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  count = var.monitoring_interval > 0 ? 1 : 0

  role       = aws_iam_role.monitoring[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

# The writer is created first and alone: Aurora makes the cluster's first instance the writer, so its AZ is known.
resource "aws_rds_cluster_instance" "writer" {
  identifier         = local.writer_identifier
  cluster_identifier = aws_rds_cluster.this.id
  engine             = aws_rds_cluster.this.engine
  engine_version     = aws_rds_cluster.this.engine_version
  instance_class     = var.instance_class
  availability_zone  = var.writer_availability_zone
  promotion_tier     = 0

  publicly_accessible        = false
  db_subnet_group_name       = aws_db_subnet_group.this.name
  auto_minor_version_upgrade = true
  apply_immediately          = var.apply_immediately
  ca_cert_identifier         = "rds-ca-rsa2048-g1"

  performance_insights_enabled          = true
  performance_insights_kms_key_id       = var.kms_key_arn
  performance_insights_retention_period = var.performance_insights_retention_period
  monitoring_interval                   = var.monitoring_interval
  monitoring_role_arn                   = var.monitoring_interval > 0 ? aws_iam_role.monitoring[0].arn : null

  tags = var.tags
}

resource "aws_rds_cluster_instance" "reader" {
  for_each = local.readers

  identifier         = "${var.name}-${each.key}"
  cluster_identifier = aws_rds_cluster.this.id
  engine             = aws_rds_cluster.this.engine
  engine_version     = aws_rds_cluster.this.engine_version
  instance_class     = var.instance_class
  availability_zone  = each.value
  # Tier 1: these readers are preferred over auto-scaled ones (tier 15 by default) as failover targets.
  promotion_tier = 1

  publicly_accessible        = false
  db_subnet_group_name       = aws_db_subnet_group.this.name
  auto_minor_version_upgrade = true
  apply_immediately          = var.apply_immediately
  ca_cert_identifier         = "rds-ca-rsa2048-g1"

  performance_insights_enabled          = true
  performance_insights_kms_key_id       = var.kms_key_arn
  performance_insights_retention_period = var.performance_insights_retention_period
  monitoring_interval                   = var.monitoring_interval
  monitoring_role_arn                   = var.monitoring_interval > 0 ? aws_iam_role.monitoring[0].arn : null

  tags = var.tags

  depends_on = [aws_rds_cluster_instance.writer]
}

resource "aws_appautoscaling_target" "readers" {
  count = var.reader_autoscaling == null ? 0 : 1

  service_namespace  = "rds"
  scalable_dimension = "rds:cluster:ReadReplicaCount"
  resource_id        = "cluster:${aws_rds_cluster.this.id}"
  min_capacity       = length(local.readers)
  max_capacity       = var.reader_autoscaling.max_capacity

  depends_on = [aws_rds_cluster_instance.reader]
}

resource "aws_appautoscaling_policy" "readers" {
  count = var.reader_autoscaling == null ? 0 : 1

  name               = "${var.name}-reader-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.readers[0].service_namespace
  scalable_dimension = aws_appautoscaling_target.readers[0].scalable_dimension
  resource_id        = aws_appautoscaling_target.readers[0].resource_id

  target_tracking_scaling_policy_configuration {
    target_value       = var.reader_autoscaling.target_cpu
    scale_in_cooldown  = 600
    scale_out_cooldown = 300

    predefined_metric_specification {
      predefined_metric_type = "RDSReaderAverageCPUUtilization"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "cpu" {
  for_each = local.instance_identifiers

  alarm_name          = "${each.key}-cpu"
  alarm_description   = "CPU of ${each.key} above ${var.alarm_thresholds.cpu_percent}% for ${var.alarm_thresholds.evaluation_periods} periods of ${var.alarm_thresholds.period_seconds} s."
  namespace           = "AWS/RDS"
  metric_name         = "CPUUtilization"
  dimensions          = { DBInstanceIdentifier = each.key }
  statistic           = "Average"
  period              = var.alarm_thresholds.period_seconds
  evaluation_periods  = var.alarm_thresholds.evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_thresholds.cpu_percent
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "freeable_memory" {
  for_each = local.instance_identifiers

  alarm_name          = "${each.key}-freeable-memory"
  alarm_description   = "Freeable memory of ${each.key} below ${var.alarm_thresholds.freeable_memory_mib} MiB: connections or work_mem are crowding out the buffer cache."
  namespace           = "AWS/RDS"
  metric_name         = "FreeableMemory"
  dimensions          = { DBInstanceIdentifier = each.key }
  statistic           = "Minimum"
  period              = var.alarm_thresholds.period_seconds
  evaluation_periods  = var.alarm_thresholds.evaluation_periods
  comparison_operator = "LessThanThreshold"
  threshold           = var.alarm_thresholds.freeable_memory_mib * 1024 * 1024
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "connections" {
  for_each = local.instance_identifiers

  alarm_name          = "${each.key}-connections"
  alarm_description   = "More than ${var.alarm_thresholds.connections} connections on ${each.key}: pods x 2 pools x Database:MaxPoolSize is approaching max_connections."
  namespace           = "AWS/RDS"
  metric_name         = "DatabaseConnections"
  dimensions          = { DBInstanceIdentifier = each.key }
  statistic           = "Maximum"
  period              = var.alarm_thresholds.period_seconds
  evaluation_periods  = var.alarm_thresholds.evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_thresholds.connections
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]

  tags = var.tags
}

# Per reader: AuroraReplicaLag is only reported by replicas. After a failover the old writer reports it instead,
# which is why every instance gets the alarm rather than the ones created as readers.
resource "aws_cloudwatch_metric_alarm" "replica_lag" {
  for_each = local.instance_identifiers

  alarm_name          = "${each.key}-replica-lag"
  alarm_description   = "Replica lag of ${each.key} above ${var.alarm_thresholds.replica_lag_ms} ms: reads may miss recent writes beyond the read-your-writes window."
  namespace           = "AWS/RDS"
  metric_name         = "AuroraReplicaLag"
  dimensions          = { DBInstanceIdentifier = each.key }
  statistic           = "Maximum"
  period              = var.alarm_thresholds.period_seconds
  evaluation_periods  = var.alarm_thresholds.evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_thresholds.replica_lag_ms
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]

  tags = var.tags
}

# Disaster recovery: Aurora's own backups stay in the region; AWS Backup copies a daily snapshot to a vault in
# another region, from which the cluster can be restored if the whole region is lost.
resource "aws_backup_vault" "this" {
  count = var.dr_backup_vault_arn == null ? 0 : 1

  name        = "${var.name}-aurora"
  kms_key_arn = var.kms_key_arn

  tags = var.tags
}

resource "aws_backup_plan" "this" {
  count = var.dr_backup_vault_arn == null ? 0 : 1

  name = "${var.name}-aurora-dr"

  rule {
    rule_name         = "daily-with-cross-region-copy"
    target_vault_name = aws_backup_vault.this[0].name
    schedule          = "cron(0 4 * * ? *)"

    lifecycle {
      delete_after = var.dr_backup_retention_days
    }

    copy_action {
      destination_vault_arn = var.dr_backup_vault_arn

      lifecycle {
        delete_after = var.dr_backup_retention_days
      }
    }
  }

  tags = var.tags
}

data "aws_iam_policy_document" "backup_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["backup.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "backup" {
  count = var.dr_backup_vault_arn == null ? 0 : 1

  name               = "${var.name}-aurora-backup"
  assume_role_policy = data.aws_iam_policy_document.backup_assume.json

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "backup" {
  count = var.dr_backup_vault_arn == null ? 0 : 1

  role       = aws_iam_role.backup[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
}

resource "aws_backup_selection" "this" {
  count = var.dr_backup_vault_arn == null ? 0 : 1

  name         = "${var.name}-aurora"
  plan_id      = aws_backup_plan.this[0].id
  iam_role_arn = aws_iam_role.backup[0].arn
  resources    = [aws_rds_cluster.this.arn]
}
