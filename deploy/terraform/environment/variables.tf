variable "environment" {
  description = "Environment name (dev, staging or prod)."
  type        = string
}

variable "region" {
  description = "Region of the environment."
  type        = string
}

variable "dr_region" {
  description = "Region Aurora snapshot copies go to when cross_region_backup is on."
  type        = string
}

variable "vpc_cidr" {
  description = "IPv4 /16 of the VPC."
  type        = string
}

variable "azs" {
  description = "The three availability zones of the environment."
  type        = list(string)
}

variable "domain_name" {
  description = "Public hosted zone created by the shared root."
  type        = string
}

variable "api_hostnames" {
  description = "Public names of the API (the chart's Ingress hosts)."
  type        = list(string)
}

variable "media_hostname" {
  description = "Public name of the product images."
  type        = string
}

variable "kubernetes_version" {
  description = "Kubernetes minor version."
  type        = string
}

variable "node_groups" {
  description = "Managed node groups, created once per AZ; sizes per AZ."
  type = map(object({
    instance_types = list(string)
    capacity_type  = optional(string, "ON_DEMAND")
    min_size       = number
    max_size       = number
    disk_size_gib  = optional(number, 50)
    labels         = optional(map(string), {})
  }))
}

variable "cluster_admin_role_arns" {
  description = "IAM roles that administer the cluster, keyed by who they are."
  type        = map(string)
}

variable "aurora_instance_class" {
  description = "Instance class of every Aurora instance."
  type        = string
}

variable "aurora_reader_count" {
  description = "Aurora readers created by Terraform."
  type        = number
}

variable "aurora_reader_autoscaling" {
  description = "Extra readers under CPU load, or null."
  type = object({
    max_capacity = number
    target_cpu   = number
  })
  default = null
}

variable "aurora_max_connections_alarm" {
  description = "Connections per Aurora instance above which the alarm fires."
  type        = number
}

variable "backup_retention_days" {
  description = "Days of Aurora point-in-time recovery (1-35)."
  type        = number
}

variable "deletion_protection" {
  description = "Protect Aurora and Cognito from deletion (required in prod)."
  type        = bool
}

variable "cross_region_backup" {
  description = "Copy daily Aurora snapshots to dr_region."
  type        = bool
}

variable "machine_clients" {
  description = "Cognito app clients for machine callers and their scopes."
  type = map(object({
    scopes = list(string)
  }))
}

variable "alarm_email" {
  description = "Address subscribed to the alarm topic, or null."
  type        = string
  default     = null
}

variable "origin_secret_version" {
  description = "Generation of the CloudFront origin secret; raise by one to rotate."
  type        = number
  default     = 1
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
