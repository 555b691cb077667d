output "cluster_name" {
  description = "EKS cluster name."
  value       = module.environment.cluster_name
}

output "cluster_endpoint" {
  description = "Private EKS API endpoint (reach it through the bastion)."
  value       = module.environment.cluster_endpoint
}

output "bastion_instance_id" {
  description = "SSM target of the bastion."
  value       = module.environment.bastion_instance_id
}

output "aurora_writer_endpoint" {
  description = "Aurora cluster endpoint (the Vault root's database_endpoint)."
  value       = module.environment.aurora_writer_endpoint
}

output "aurora_master_user_secret_arn" {
  description = "RDS-managed master credential (the Vault root's master_secret_arn)."
  value       = module.environment.aurora_master_user_secret_arn
}

output "gitops_values" {
  description = "What the GitOps values of this environment take from here."
  value       = module.environment.gitops_values
}
