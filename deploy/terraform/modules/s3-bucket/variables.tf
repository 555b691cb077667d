variable "bucket" {
  description = "Globally unique bucket name."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for default SSE-KMS encryption (S3 Bucket Keys keep the KMS request cost low)."
  type        = string
}

variable "force_destroy" {
  description = "Let terraform destroy delete a bucket that still holds objects. Only for throwaway environments."
  type        = bool
  default     = false
}

variable "lifecycle_rules" {
  description = "Lifecycle rules. Incomplete multipart uploads are always aborted after a day and old versions expired; these add transitions and expirations per prefix (empty prefix = whole bucket)."
  type = list(object({
    id                       = string
    prefix                   = optional(string, "")
    transition_days          = optional(number)
    transition_storage_class = optional(string, "GLACIER_IR")
    expiration_days          = optional(number)
  }))
  default = []

  validation {
    condition     = alltrue([for rule in var.lifecycle_rules : rule.expiration_days == null || rule.transition_days == null || coalesce(rule.expiration_days, 0) > coalesce(rule.transition_days, 0)])
    error_message = "A rule's expiration_days must come after its transition_days."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days an overwritten or deleted object version stays recoverable."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be at least 1."
  }
}

variable "policy_statements" {
  description = "Extra bucket policy statements as a JSON policy document (e.g. CloudFront read through Origin Access Control). A deny of plain-HTTP requests is always added."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
