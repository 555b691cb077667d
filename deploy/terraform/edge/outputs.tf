output "api_urls" {
  description = "Public base URLs of the API."
  value       = module.api_cdn.urls
}

output "alb_dns_name" {
  description = "The ALB CloudFront forwards to, found by its controller tags."
  value       = module.api_cdn.alb_dns_name
}

output "distribution_id" {
  description = "CloudFront distribution ID (invalidations)."
  value       = module.api_cdn.distribution_id
}
