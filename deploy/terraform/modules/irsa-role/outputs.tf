output "arn" {
  description = "ARN of the role (the eks.amazonaws.com/role-arn annotation of the service account)."
  value       = aws_iam_role.this.arn
}

output "name" {
  description = "Name of the role."
  value       = aws_iam_role.this.name
}

output "service_account" {
  description = "The one service account that may assume the role, as namespace/name."
  value       = "${var.namespace}/${var.service_account}"
}
