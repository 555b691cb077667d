output "cluster_name" {
  description = "EKS cluster name (also the elbv2.k8s.aws/cluster tag the edge root looks the ALB up by)."
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "Private EKS API endpoint, reached through the bastion."
  value       = module.eks.endpoint
}

output "cluster_certificate_authority_data" {
  description = "CA of the EKS API, for kubeconfig."
  value       = module.eks.certificate_authority_data
}

output "bastion_instance_id" {
  description = "SSM target for port forwarding to the EKS API and Aurora."
  value       = module.bastion.instance_id
}

output "addon_service_accounts" {
  description = "Namespace/name each platform add-on must run as for its IRSA role to apply."
  value       = module.eks.addon_service_accounts
}

output "addon_role_arns" {
  description = "IRSA role per platform add-on, for the GitOps platform values."
  value       = module.eks.addon_role_arns
}

output "aurora_master_user_secret_arn" {
  description = "RDS-managed master credential, used once by deploy/terraform/vault to create databases and roles."
  value       = module.aurora.master_user_secret_arn
}

output "aurora_writer_endpoint" {
  description = "Aurora cluster endpoint."
  value       = module.aurora.endpoint
}

output "aurora_reader_endpoint" {
  description = "Aurora reader endpoint."
  value       = module.aurora.reader_endpoint
}

output "origin_secret_arn" {
  description = "CloudFront origin secret, read by the edge root."
  value       = module.origin_protection.secret_arn
}

output "alarm_topic_arn" {
  description = "SNS topic of the environment's alarms."
  value       = aws_sns_topic.alerts.arn
}

# Everything the GitOps repository's values for this environment need, in one place: copy it into
# deploy/gitops/envs/<env>/ when the environment is created or changes.
output "gitops_values" {
  description = "Values the chart and the platform add-ons take from this environment."
  value = {
    region   = local.region
    vpc_id   = module.network.vpc_id
    vpc_cidr = module.network.vpc_cidr

    database = {
      for service in ["catalog", "assets"] : service => {
        writer = "Host=${module.aurora.endpoint};Port=${module.aurora.port};Database=${service};SSL Mode=VerifyFull"
        reader = "Host=${module.aurora.reader_endpoint};Port=${module.aurora.port};Database=${service};SSL Mode=VerifyFull"
      }
    }

    auth = {
      authority  = module.cognito.issuer
      client_ids = values(module.cognito.machine_client_ids)
      token_url  = module.cognito.token_endpoint
    }

    assets = {
      role_arn     = module.assets_irsa.arn
      bucket       = module.assets_bucket.bucket
      kms_key_id   = module.assets_key.key_arn
      cdn_base_url = module.media_cdn.base_url
    }

    ingress = {
      hosts           = var.api_hostnames
      certificate_arn = module.api_certificate.arn
      wafv2_acl_arn   = module.origin_protection.web_acl_arn
      security_group  = module.origin_protection.security_group_id
    }

    backup_bucket  = module.backups_bucket.bucket
    vault_kms_key  = module.vault_unseal_key.key_id
    route53_zone   = data.aws_route53_zone.this.zone_id
    addon_role_arn = module.eks.addon_role_arns
  }
}
