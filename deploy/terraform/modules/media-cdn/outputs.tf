output "distribution_arn" {
  description = "ARN of the distribution: the only principal the assets bucket and its key admit for reads."
  value       = aws_cloudfront_distribution.this.arn
}

output "base_url" {
  description = "Base URL of the public images: the Assets service's Storage:CdnBaseUrl."
  value       = "https://${var.hostname}"
}
