output "arn" {
  description = "ARN of the validated certificate (available once validation completed)."
  value       = aws_acm_certificate_validation.this.certificate_arn
}
