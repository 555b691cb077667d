variable "name" {
  description = "Prefix of every resource name, e.g. studio-prod."
  type        = string
}

variable "hostnames" {
  description = "Public names of the API (the Ingress hosts): CloudFront answers them and forwards the Host header, so the ALB's rules and certificate see the same names."
  type        = list(string)

  validation {
    condition     = length(var.hostnames) > 0
    error_message = "At least one hostname is required."
  }
}

variable "certificate_arn" {
  description = "ACM certificate covering hostnames, issued in us-east-1."
  type        = string
}

variable "zone_id" {
  description = "Route53 hosted zone of the hostnames."
  type        = string
}

variable "cluster_name" {
  description = "EKS cluster whose AWS Load Balancer Controller created the ALB (its elbv2.k8s.aws/cluster tag)."
  type        = string
}

variable "ingress_group" {
  description = "IngressGroup of the chart's Ingresses (alb.ingress.kubernetes.io/group.name), which the controller writes into the ALB's ingress.k8s.aws/stack tag."
  type        = string
}

variable "origin_secret_arn" {
  description = "Secrets Manager secret with the origin header name and value the ALB's web ACL requires."
  type        = string
}

variable "read_your_writes_header" {
  description = "Request header carrying the services' read-your-writes token: part of the cache key, so a read that must see its own write never gets a cached answer."
  type        = string
  default     = "X-Read-Your-Writes"
}

variable "max_ttl_seconds" {
  description = "Upper bound on how long an origin Cache-Control max-age may keep a response at the edge."
  type        = number
  default     = 300
}

variable "price_class" {
  description = "CloudFront price class: PriceClass_100 (North America, Europe) is cheapest, PriceClass_All reaches every edge."
  type        = string
  default     = "PriceClass_100"
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
