output "distribution_id" {
  description = "ID of the distribution (for invalidations)."
  value       = aws_cloudfront_distribution.this.id
}

output "alb_dns_name" {
  description = "DNS name of the ALB found by its controller tags."
  value       = data.aws_lb.this.dns_name
}

output "urls" {
  description = "Public base URLs of the API."
  value       = [for hostname in var.hostnames : "https://${hostname}"]
}
