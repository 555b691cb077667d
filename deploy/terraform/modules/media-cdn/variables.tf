variable "name" {
  description = "Prefix of every resource name, e.g. studio-prod."
  type        = string
}

variable "hostname" {
  description = "Public name of the images, e.g. media.prod.studio.example.com: the Assets service's Storage:CdnBaseUrl is https://<hostname>."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate for hostname, issued in us-east-1 (CloudFront reads certificates from there only)."
  type        = string
}

variable "zone_id" {
  description = "Route53 hosted zone of hostname."
  type        = string
}

variable "bucket_regional_domain_name" {
  description = "Regional domain name of the assets bucket (the origin)."
  type        = string
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
