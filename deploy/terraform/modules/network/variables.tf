variable "name" {
  description = "Prefix of every resource name, e.g. studio-prod."
  type        = string
}

variable "cidr" {
  description = "IPv4 CIDR of the VPC. A /16 leaves each AZ a /19 private subnet: with the VPC CNI every pod takes a VPC address."
  type        = string

  validation {
    condition     = can(cidrhost(var.cidr, 0)) && endswith(var.cidr, "/16")
    error_message = "cidr must be an IPv4 /16 (the subnet layout carves /19 private and /24 public and database subnets out of it)."
  }
}

variable "azs" {
  description = "The three availability zones the subnets, NAT gateways, nodes and Aurora instances are spread over."
  type        = list(string)

  validation {
    condition     = length(toset(var.azs)) == 3 && length(var.azs) == 3
    error_message = "azs must name exactly three distinct availability zones."
  }
}

variable "interface_endpoints" {
  description = "AWS services reached through interface VPC endpoints instead of the NAT gateways (image pulls, IRSA token exchange and log shipping stay inside the VPC and cost no NAT data processing)."
  type        = set(string)
  default     = ["ecr.api", "ecr.dkr", "sts", "logs"]
}

variable "flow_log_retention_days" {
  description = "Days VPC flow logs are kept in CloudWatch Logs; 0 disables flow logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_days)
    error_message = "flow_log_retention_days must be 0 or a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "flow_log_kms_key_arn" {
  description = "KMS key that encrypts the flow log group (its policy must allow the CloudWatch Logs service); null uses CloudWatch Logs' own encryption."
  type        = string
  default     = null
}

variable "cluster_name" {
  description = "EKS cluster whose load balancers use these subnets; tagged so the AWS Load Balancer Controller discovers them."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
