variable "name" {
  description = "Name of the IAM role."
  type        = string
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider."
  type        = string
}

variable "oidc_issuer" {
  description = "Issuer of the cluster's service account tokens without https:// (the condition key prefix), e.g. oidc.eks.eu-west-1.amazonaws.com/id/ABC."
  type        = string

  validation {
    condition     = !startswith(var.oidc_issuer, "https://")
    error_message = "oidc_issuer must not start with https:// (IAM condition keys use the bare host and path)."
  }
}

variable "namespace" {
  description = "Namespace of the one Kubernetes service account that may assume the role."
  type        = string
}

variable "service_account" {
  description = "Name of the one Kubernetes service account that may assume the role."
  type        = string
}

variable "inline_policies" {
  description = "Inline policies of the role as JSON documents, keyed by a name saying what they allow (least privilege for what the workload does)."
  type        = map(string)
  default     = {}
}

variable "managed_policy_arns" {
  description = "AWS managed policies to attach, for add-ons whose policy AWS maintains (EBS CSI, VPC CNI)."
  type        = set(string)
  default     = []
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
