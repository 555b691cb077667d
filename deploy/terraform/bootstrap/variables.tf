variable "region" {
  description = "Region of the state bucket (and of the environments)."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
