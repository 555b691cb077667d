variable "name" {
  description = "Name of the cluster and prefix of every resource name, e.g. studio-prod."
  type        = string
}

variable "kubernetes_version" {
  description = "Kubernetes minor version. Upgrade one minor at a time, add-ons and node groups after the control plane."
  type        = string
  default     = "1.33"
}

variable "vpc_id" {
  description = "VPC of the cluster."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnet IDs by availability zone: the control plane's ENIs and one managed node group per AZ and group."
  type        = map(string)
}

variable "kms_key_arn" {
  description = "KMS key for envelope encryption of Kubernetes Secrets."
  type        = string
}

variable "log_retention_days" {
  description = "Days control plane logs (api, audit, authenticator, controllerManager, scheduler) are kept."
  type        = number
  default     = 90
}

variable "admin_role_arns" {
  description = "IAM roles granted cluster-admin through EKS access entries, keyed by who they are (e.g. platform-operators). kubectl reaches the private endpoint through the bastion's SSM tunnel."
  type        = map(string)
}

variable "api_allowed_security_group_ids" {
  description = "Security groups (besides the nodes) allowed to reach the private API endpoint on 443, keyed by who they are (the bastion)."
  type        = map(string)
  default     = {}
}

variable "node_groups" {
  description = "Managed node groups. Each is created once per AZ (so the cluster autoscaler scales the AZ a pending pod and its EBS volume need); sizes are per AZ."
  type = map(object({
    instance_types = list(string)
    capacity_type  = optional(string, "ON_DEMAND")
    ami_type       = optional(string, "AL2023_x86_64_STANDARD")
    min_size       = number
    max_size       = number
    disk_size_gib  = optional(number, 50)
    labels         = optional(map(string), {})
  }))

  validation {
    condition     = alltrue([for group in values(var.node_groups) : group.min_size >= 0 && group.max_size >= group.min_size && contains(["ON_DEMAND", "SPOT"], group.capacity_type)])
    error_message = "Each node group needs 0 <= min_size <= max_size and capacity_type ON_DEMAND or SPOT."
  }
}

variable "addon_versions" {
  description = "Pinned versions of the EKS add-ons (vpc-cni, coredns, kube-proxy, aws-ebs-csi-driver); an absent entry takes the default for the Kubernetes version."
  type        = map(string)
  default     = {}
}

variable "route53_zone_arn" {
  description = "Hosted zone cert-manager may write _acme-challenge TXT records into (Let's Encrypt DNS-01)."
  type        = string
}

variable "backup_bucket_arn" {
  description = "Bucket the Argo CD backup CronJob writes its exports to (under argocd/)."
  type        = string
}

variable "backup_kms_key_arn" {
  description = "KMS key of the backup bucket."
  type        = string
}

variable "vault_unseal_kms_key_arn" {
  description = "KMS key Vault auto-unseals with."
  type        = string
}

variable "image_repository_arns" {
  description = "ECR repositories of the service images, read by Argo CD Image Updater."
  type        = list(string)
}

variable "chart_repository_arn" {
  description = "ECR repository of the Helm chart (OCI), read when minting Argo CD's repository credential."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
