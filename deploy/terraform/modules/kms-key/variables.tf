variable "alias" {
  description = "Alias without the alias/ prefix, e.g. studio-prod/aurora."
  type        = string
}

variable "description" {
  description = "What the key protects (shown in the console and in CloudTrail)."
  type        = string
}

variable "deletion_window_in_days" {
  description = "Days a deleted key can still be recovered; data encrypted under it is unreadable forever afterwards."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 7 and 30."
  }
}

variable "sns_publishers" {
  description = "Services that publish to SNS topics encrypted with this key (cloudwatch.amazonaws.com for alarms, codestar-notifications.amazonaws.com for pipeline events); they may use it for this account's topics only."
  type        = set(string)
  default     = []
}

variable "service_grants" {
  description = "Service principals allowed to decrypt only for the listed source ARNs (e.g. cloudfront.amazonaws.com for one distribution)."
  type = map(object({
    principal   = string
    actions     = list(string)
    source_arns = list(string)
  }))
  default = {}
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
