variable "name" {
  description = "Cluster identifier and prefix of every resource name, e.g. studio-prod."
  type        = string
}

variable "engine_version" {
  description = "Aurora PostgreSQL major version (e.g. 16). AWS applies minor upgrades in the maintenance window (auto_minor_version_upgrade); the AWS provider keeps a configured major as long as the running version starts with it, so an upgrade neither shows as drift nor makes the next plan ask for a downgrade, which RDS refuses. A major upgrade is a change of this value."
  type        = string
  default     = "16"

  validation {
    condition     = can(regex("^[0-9]+$", var.engine_version))
    error_message = "engine_version is the major version only (e.g. 16): a pinned minor such as 16.6 drifts once AWS upgrades the cluster and then fails as a downgrade."
  }
}

variable "instance_class" {
  description = "Instance class of the writer and the readers (readers take over as writer on failover, so they are sized alike)."
  type        = string
}

variable "storage_type" {
  description = "aurora (pay per I/O) or aurora-iopt1 (I/O-Optimized: higher instance and storage price, no I/O charges; cheaper once I/O exceeds about a quarter of the bill)."
  type        = string
  default     = "aurora"

  validation {
    condition     = contains(["aurora", "aurora-iopt1"], var.storage_type)
    error_message = "storage_type must be aurora or aurora-iopt1."
  }
}

variable "vpc_id" {
  description = "VPC of the cluster."
  type        = string
}

variable "subnet_ids" {
  description = "Database subnets (one per AZ, no route out of the VPC)."
  type        = list(string)
}

variable "writer_availability_zone" {
  description = "AZ of the instance created first, which becomes the writer."
  type        = string
}

variable "reader_availability_zones" {
  description = "AZs of the reader instances, one reader per entry. They must differ from the writer's AZ so an AZ outage leaves a reader to promote."
  type        = list(string)

  validation {
    condition     = length(var.reader_availability_zones) >= 1
    error_message = "At least one reader is required: it serves the reader endpoint and is the failover target."
  }

  validation {
    condition     = !contains(var.reader_availability_zones, var.writer_availability_zone)
    error_message = "Readers must be in other AZs than the writer."
  }
}

variable "allowed_security_group_ids" {
  description = "Security groups admitted on the PostgreSQL port, keyed by a name saying who they are (EKS nodes, bastion). Nothing else reaches the cluster."
  type        = map(string)
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for storage, snapshots, Performance Insights and the master secret."
  type        = string
}

variable "master_username" {
  description = "Master user. Its password is generated and rotated by RDS in Secrets Manager; only the bootstrap (deploy/terraform/vault) uses it."
  type        = string
  default     = "cluster_admin"
}

variable "backup_retention_period" {
  description = "Days of automated backups (point-in-time recovery window)."
  type        = number

  validation {
    condition     = var.backup_retention_period >= 1 && var.backup_retention_period <= 35
    error_message = "backup_retention_period must be between 1 and 35 days (the range Aurora accepts)."
  }
}

variable "preferred_backup_window" {
  description = "Daily UTC window of the automated backup, hh24:mi-hh24:mi."
  type        = string
  default     = "02:00-03:00"
}

variable "preferred_maintenance_window" {
  description = "Weekly UTC maintenance window, ddd:hh24:mi-ddd:hh24:mi; must not overlap the backup window."
  type        = string
  default     = "sun:03:30-sun:04:30"
}

variable "deletion_protection" {
  description = "Refuse to delete the cluster (through Terraform or the console) until this is turned off."
  type        = bool
}

variable "skip_final_snapshot" {
  description = "Delete without a final snapshot. Only for throwaway environments."
  type        = bool
  default     = false
}

variable "apply_immediately" {
  description = "Apply modifications now instead of in the maintenance window (instance class changes restart instances)."
  type        = bool
  default     = false
}

variable "performance_insights_retention_period" {
  description = "Days of Performance Insights history; 7 is free, longer is billed per vCPU."
  type        = number
  default     = 7
}

variable "monitoring_interval" {
  description = "Seconds between Enhanced Monitoring samples (OS metrics); 0 disables it."
  type        = number
  default     = 60

  validation {
    condition     = contains([0, 1, 5, 10, 15, 30, 60], var.monitoring_interval)
    error_message = "monitoring_interval must be one of 0, 1, 5, 10, 15, 30, 60."
  }
}

variable "log_min_duration_statement_ms" {
  description = "Statements slower than this are logged (exported to CloudWatch Logs); -1 disables."
  type        = number
  default     = 1000
}

variable "reader_autoscaling" {
  description = "Extra readers added by Application Auto Scaling when the readers' average CPU exceeds target_cpu; null disables. Added readers are outside Terraform's state."
  type = object({
    max_capacity = number
    target_cpu   = number
  })
  default = null

  validation {
    condition     = var.reader_autoscaling == null || try(var.reader_autoscaling.max_capacity <= 15 && var.reader_autoscaling.target_cpu > 0 && var.reader_autoscaling.target_cpu < 100, false)
    error_message = "reader_autoscaling.max_capacity must be at most 15 (Aurora's replica limit) and target_cpu between 0 and 100."
  }
}

variable "alarm_topic_arn" {
  description = "SNS topic that receives the CloudWatch alarms (and their recovery)."
  type        = string
}

variable "alarm_thresholds" {
  description = "CloudWatch alarm thresholds. Replica lag stays well under the services' read-your-writes window (2 s): beyond it a read after a write may miss it."
  type = object({
    cpu_percent         = optional(number, 80)
    connections         = number
    replica_lag_ms      = optional(number, 1000)
    freeable_memory_mib = optional(number, 512)
    evaluation_periods  = optional(number, 5)
    period_seconds      = optional(number, 60)
  })
}

variable "dr_backup_vault_arn" {
  description = "AWS Backup vault in another region that daily snapshots are copied to (disaster recovery); null disables the copy."
  type        = string
  default     = null
}

variable "dr_backup_retention_days" {
  description = "Days the cross-region snapshot copies are kept."
  type        = number
  default     = 14
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
