variable "name" {
  description = "Repository name, e.g. catalog or charts/service (helm push oci://<registry>/charts stores chart service there)."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key encrypting the images at rest."
  type        = string
}

variable "keep_per_tag_pattern" {
  description = "Most recent images kept per tag pattern (ECR wildcard, e.g. prod-* or *-prod-*); older ones expire. Keep more than an environment could ever roll back to."
  type        = map(number)

  validation {
    condition     = alltrue([for count in values(var.keep_per_tag_pattern) : count >= 1])
    error_message = "Every pattern must keep at least one image."
  }
}

variable "untagged_expiry_days" {
  description = "Days after which untagged images (layers of failed or superseded pushes) are deleted."
  type        = number
  default     = 7
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
