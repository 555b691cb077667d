variable "environment" {
  description = "Environment name (dev, staging or prod); the cluster is studio-<environment>."
  type        = string
}

variable "region" {
  description = "Region of the environment."
  type        = string
}

variable "domain_name" {
  description = "Public hosted zone created by the shared root."
  type        = string
}

variable "api_hostnames" {
  description = "Public names of the API; the same list as the environment root's (the chart's Ingress hosts)."
  type        = list(string)
}

variable "ingress_group" {
  description = "alb.ingress.kubernetes.io/group.name of the chart's Ingresses: the ALB's ingress.k8s.aws/stack tag."
  type        = string
}

variable "price_class" {
  description = "CloudFront price class."
  type        = string
  default     = "PriceClass_100"
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
