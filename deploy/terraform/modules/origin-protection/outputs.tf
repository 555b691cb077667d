output "web_acl_arn" {
  description = "Web ACL for the Ingress annotation alb.ingress.kubernetes.io/wafv2-acl-arn."
  value       = aws_wafv2_web_acl.this.arn
}

output "security_group_id" {
  description = "Security group for the Ingress annotation alb.ingress.kubernetes.io/security-groups (with manage-backend-security-group-rules: \"true\")."
  value       = aws_security_group.this.id
}

output "secret_arn" {
  description = "Secrets Manager secret holding the header name and the current value; the edge root reads it."
  value       = aws_secretsmanager_secret.this.arn
}
