variable "name" {
  description = "Prefix of every resource name, e.g. studio-prod."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the ALB."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR of the VPC: the ALB talks to pods (API port 8080, health checks on 8081) and nothing else."
  type        = string
}

variable "header_name" {
  description = "Header CloudFront adds to every origin request; the ALB's web ACL blocks requests without the current value."
  type        = string
  default     = "X-Origin-Verify"
}

variable "secret_version" {
  description = "Generation of the origin secret. Raising it by one rotates without downtime: the web ACL accepts this and the previous generation, so apply this root, then the edge root, and the old value is retired at the next raise."
  type        = number
  default     = 1

  validation {
    condition     = var.secret_version >= 1 && floor(var.secret_version) == var.secret_version
    error_message = "secret_version must be a positive whole number."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
