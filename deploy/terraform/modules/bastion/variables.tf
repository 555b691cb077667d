variable "name" {
  description = "Prefix of every resource name, e.g. studio-prod."
  type        = string
}

variable "vpc_id" {
  description = "VPC the bastion runs in."
  type        = string
}

variable "subnet_id" {
  description = "Private subnet of the bastion (it has no public address and admits no inbound connection)."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR of the VPC: the only destination the bastion forwards to besides AWS APIs."
  type        = string
}

variable "instance_type" {
  description = "Instance type; the bastion only relays SSM port-forwarding sessions, so the smallest Graviton instance does."
  type        = string
  default     = "t4g.nano"
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
