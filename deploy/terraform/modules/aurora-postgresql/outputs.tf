output "cluster_identifier" {
  description = "Identifier of the cluster."
  value       = aws_rds_cluster.this.id
}

output "cluster_arn" {
  description = "ARN of the cluster."
  value       = aws_rds_cluster.this.arn
}

output "endpoint" {
  description = "Cluster (writer) endpoint: Database:Writer. Follows the writer through failovers (DNS TTL 5 s)."
  value       = aws_rds_cluster.this.endpoint
}

output "reader_endpoint" {
  description = "Reader endpoint, balancing over the readers: Database:Reader."
  value       = aws_rds_cluster.this.reader_endpoint
}

output "port" {
  description = "PostgreSQL port."
  value       = local.port
}

output "master_user_secret_arn" {
  description = "Secrets Manager secret (managed and rotated by RDS) holding the master credential; read by the bootstrap in deploy/terraform/vault."
  value       = aws_rds_cluster.this.master_user_secret[0].secret_arn
}

output "security_group_id" {
  description = "Security group of the cluster."
  value       = aws_security_group.this.id
}

output "instance_identifiers" {
  description = "Identifiers of the instances Terraform manages (writer first)."
  value       = concat([aws_rds_cluster_instance.writer.identifier], [for reader in aws_rds_cluster_instance.reader : reader.identifier])
}
