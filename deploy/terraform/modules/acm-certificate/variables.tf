variable "domain_name" {
  description = "Main name of the certificate."
  type        = string
}

variable "subject_alternative_names" {
  description = "Further names the certificate covers."
  type        = list(string)
  default     = []
}

variable "zone_id" {
  description = "Route53 hosted zone the DNS validation records are written to."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
