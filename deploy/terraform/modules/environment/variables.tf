variable "environment" {
  description = "Environment name; branches map to environments: develop -> dev, staging -> staging, prod -> prod."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "vpc_cidr" {
  description = "IPv4 /16 of the environment's VPC; give every environment its own so they can be peered later."
  type        = string
}

variable "azs" {
  description = "The three availability zones of the environment."
  type        = list(string)
}

variable "domain_name" {
  description = "Public Route53 hosted zone the environment's names live in (created by the shared root), e.g. studio.example.com."
  type        = string
}

variable "api_hostnames" {
  description = "Public names of the API (the chart's Ingress hosts), inside domain_name."
  type        = list(string)
}

variable "media_hostname" {
  description = "Public name of the product images (CloudFront in front of the assets bucket), inside domain_name."
  type        = string
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the EKS cluster."
  type        = string
}

variable "node_groups" {
  description = "Managed node groups, created once per AZ; sizes are per AZ (see modules/eks)."
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
  description = "IAM roles that administer the cluster (EKS access entries), keyed by who they are."
  type        = map(string)
}

variable "aurora_instance_class" {
  description = "Instance class of every Aurora instance (writer and readers)."
  type        = string
}

variable "aurora_reader_count" {
  description = "Readers created by Terraform, spread over the two AZs the writer is not in."
  type        = number

  validation {
    condition     = var.aurora_reader_count >= 1 && var.aurora_reader_count <= 15
    error_message = "aurora_reader_count must be between 1 and 15."
  }
}

variable "aurora_reader_autoscaling" {
  description = "Readers added under CPU load beyond aurora_reader_count, or null (see modules/aurora-postgresql)."
  type = object({
    max_capacity = number
    target_cpu   = number
  })
  default = null
}

variable "aurora_max_connections_alarm" {
  description = "DatabaseConnections per instance above which the alarm fires; size it from pods x 2 pools x Database:MaxPoolSize."
  type        = number
}

variable "backup_retention_days" {
  description = "Days of Aurora point-in-time recovery."
  type        = number

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 1 and 35 days (the range Aurora accepts)."
  }
}

variable "deletion_protection" {
  description = "Protect the Aurora cluster and the Cognito user pool from deletion; mandatory in prod."
  type        = bool

  validation {
    condition     = var.environment != "prod" || var.deletion_protection
    error_message = "prod keeps deletion protection on."
  }
}

variable "cross_region_backup" {
  description = "Copy a daily Aurora snapshot to the DR region (the aws.dr provider) for disaster recovery."
  type        = bool
  default     = false
}

variable "machine_clients" {
  description = "Cognito app clients for machine callers (client credentials), with the scopes each may request."
  type = map(object({
    scopes = list(string)
  }))
}

variable "alarm_email" {
  description = "Address subscribed to the environment's alarm topic (confirmation mail is sent once); null subscribes nobody."
  type        = string
  default     = null
}

variable "origin_secret_version" {
  description = "Generation of the CloudFront-to-ALB origin secret; raise by one to rotate (see modules/origin-protection)."
  type        = number
  default     = 1
}

variable "assets_object_prefix" {
  description = "Prefix of the object keys the Assets service writes (products/<product id>/<asset id>); its role, and CloudFront, may touch nothing else in the bucket."
  type        = string
  default     = "products/"

  validation {
    condition     = endswith(var.assets_object_prefix, "/")
    error_message = "assets_object_prefix must end with /."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
