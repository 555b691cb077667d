variable "name" {
  description = "Repository name, e.g. catalog or charts/service (helm push oci://<registry>/charts stores chart service there)."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key encrypting the images at rest."
  type        = string
}

variable "keep_per_tag_pattern" {
  description = "Most recent images kept per tag pattern (ECR wildcard, e.g. prod-*); older ones expire unless a protected tag keeps them. Empty: no tagged image expires by count (the chart, whose versions environments pin by reviewed commit for as long as they like)."
  type        = map(number)
  default     = {}

  validation {
    condition     = alltrue([for count in values(var.keep_per_tag_pattern) : count >= 1])
    error_message = "Every pattern must keep at least one image."
  }
}

variable "protected_tag_patterns" {
  description = "Tag patterns whose images never expire, evaluated before every other rule (keep-*: what an environment is held at)."
  type        = list(string)
  default     = ["keep-*"]
}

variable "protected_count" {
  description = "The count of the protected rules: more images than a repository ever holds, so none of them expires (ECR has no keep action)."
  type        = number
  default     = 9999
}

variable "expire_after_days_per_tag_pattern" {
  description = "Days after which tagged images matching a pattern expire, after the protected and kept ones (e.g. candidate-*: builds whose scan never passed)."
  type        = map(number)
  default     = {}
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
