output "instance_id" {
  description = "Instance ID, the --target of aws ssm start-session."
  value       = aws_instance.this.id
}

output "security_group_id" {
  description = "Security group of the bastion (admitted by the EKS API and Aurora)."
  value       = aws_security_group.this.id
}
