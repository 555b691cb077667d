output "cluster_name" {
  description = "Name of the cluster."
  value       = aws_eks_cluster.this.name
}

output "cluster_arn" {
  description = "ARN of the cluster."
  value       = aws_eks_cluster.this.arn
}

output "endpoint" {
  description = "Private API endpoint (reachable from the VPC only; operators tunnel through the bastion)."
  value       = aws_eks_cluster.this.endpoint
}

output "certificate_authority_data" {
  description = "Base64 CA bundle of the API server, for kubeconfig."
  value       = aws_eks_cluster.this.certificate_authority[0].data
}

output "cluster_security_group_id" {
  description = "Security group EKS attaches to the control plane ENIs and the managed nodes (pods use the node's)."
  value       = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
}

output "oidc_provider_arn" {
  description = "ARN of the IAM OIDC provider for IRSA."
  value       = aws_iam_openid_connect_provider.this.arn
}

output "oidc_issuer" {
  description = "Issuer without https://, the prefix of IRSA condition keys."
  value       = local.oidc_issuer
}

output "node_role_arn" {
  description = "IAM role of the managed nodes."
  value       = aws_iam_role.node.arn
}

output "addon_service_accounts" {
  description = "Namespace and service account each add-on must be installed with for its IRSA role to apply."
  value       = { for key, account in local.addon_service_accounts : key => "${account.namespace}/${account.service_account}" }
}

output "addon_role_arns" {
  description = "IRSA role ARN per add-on (the eks.amazonaws.com/role-arn annotation of its service account)."
  value       = { for key, role in module.addon_irsa : key => role.arn }
}
