data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

data "aws_route53_zone" "this" {
  name         = var.domain_name
  private_zone = false
}

# Created once per account by the shared root.
data "aws_ecr_repository" "this" {
  for_each = toset(["catalog", "assets", "charts/service"])

  name = each.key
}

locals {
  name    = "studio-${var.environment}"
  account = data.aws_caller_identity.current.account_id
  region  = data.aws_region.current.region
  tags    = merge(var.tags, { Environment = var.environment })

  # The writer goes to the first AZ; readers alternate over the other two, so losing any one AZ leaves a
  # writer or a promotable reader.
  writer_az  = var.azs[0]
  reader_azs = [for index in range(var.aurora_reader_count) : var.azs[1 + index % 2]]
}

module "network" {
  source = "../network"

  name         = local.name
  cidr         = var.vpc_cidr
  azs          = var.azs
  cluster_name = local.name

  tags = local.tags
}

module "eks_key" {
  source = "../kms-key"

  alias       = "${local.name}/eks"
  description = "Envelope encryption of ${local.name} Kubernetes Secrets"

  tags = local.tags
}

module "aurora_key" {
  source = "../kms-key"

  alias       = "${local.name}/aurora"
  description = "${local.name} Aurora storage, snapshots, Performance Insights and master secret"

  tags = local.tags
}

module "alerts_key" {
  source = "../kms-key"

  alias          = "${local.name}/alerts"
  description    = "${local.name} alarm topic"
  sns_publishers = ["cloudwatch.amazonaws.com"]

  tags = local.tags
}

module "vault_unseal_key" {
  source = "../kms-key"

  alias       = "${local.name}/vault-unseal"
  description = "Auto-unseal of the ${local.name} Vault cluster (its IRSA role is the only user)"

  tags = local.tags
}

module "backups_key" {
  source = "../kms-key"

  alias       = "${local.name}/backups"
  description = "${local.name} backup bucket"

  tags = local.tags
}

module "assets_key" {
  source = "../kms-key"

  alias       = "${local.name}/assets"
  description = "${local.name} product images"

  # CloudFront decrypts objects for this one distribution only.
  service_grants = {
    CloudFrontReadsProductImages = {
      principal   = "cloudfront.amazonaws.com"
      actions     = ["kms:Decrypt"]
      source_arns = [module.media_cdn.distribution_arn]
    }
  }

  tags = local.tags
}

resource "aws_sns_topic" "alerts" {
  name              = "${local.name}-alerts"
  kms_master_key_id = module.alerts_key.key_arn

  tags = local.tags
}

resource "aws_sns_topic_subscription" "alerts_email" {
  count = var.alarm_email == null ? 0 : 1

  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

module "bastion" {
  source = "../bastion"

  name      = local.name
  vpc_id    = module.network.vpc_id
  vpc_cidr  = module.network.vpc_cidr
  subnet_id = module.network.private_subnet_ids[var.azs[0]]

  tags = local.tags
}

module "assets_bucket" {
  source = "../s3-bucket"

  bucket      = "${local.name}-assets-${local.account}"
  kms_key_arn = module.assets_key.key_arn

  policy_statements = data.aws_iam_policy_document.assets_bucket_cloudfront.json

  tags = local.tags
}

data "aws_iam_policy_document" "assets_bucket_cloudfront" {
  statement {
    sid       = "CloudFrontReadsProductImages"
    actions   = ["s3:GetObject"]
    resources = ["${module.assets_bucket.arn}/${var.assets_object_prefix}*"]

    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [module.media_cdn.distribution_arn]
    }
  }
}

module "backups_bucket" {
  source = "../s3-bucket"

  bucket      = "${local.name}-backups-${local.account}"
  kms_key_arn = module.backups_key.key_arn

  # Argo CD exports are small and only read for a restore: 30 days outside prod; a year in prod, in Glacier Instant
  # Retrieval after a month. No transition where the object expires first: S3 (and the module) refuse an expiration
  # that is not later than the transition.
  # Vault's hourly raft snapshots alike. Elasticsearch's snapshots (elasticsearch/) have no rule: its snapshot
  # lifecycle policy deletes them, and an S3 expiration would remove files that newer snapshots still reference.
  lifecycle_rules = [
    {
      id              = "argocd-exports"
      prefix          = "argocd/"
      transition_days = var.environment == "prod" ? 30 : null
      expiration_days = var.environment == "prod" ? 365 : 30
    },
    {
      id              = "vault-snapshots"
      prefix          = "vault/"
      transition_days = var.environment == "prod" ? 30 : null
      expiration_days = var.environment == "prod" ? 365 : 30
    },
  ]

  tags = local.tags
}

module "eks" {
  source = "../eks"

  name               = local.name
  kubernetes_version = var.kubernetes_version
  vpc_id             = module.network.vpc_id
  subnet_ids         = module.network.private_subnet_ids
  kms_key_arn        = module.eks_key.key_arn
  admin_role_arns    = var.cluster_admin_role_arns
  node_groups        = var.node_groups

  api_allowed_security_group_ids = {
    bastion = module.bastion.security_group_id
  }

  route53_zone_arn         = data.aws_route53_zone.this.arn
  backup_bucket_arn        = module.backups_bucket.arn
  backup_kms_key_arn       = module.backups_key.key_arn
  vault_unseal_kms_key_arn = module.vault_unseal_key.key_arn
  image_repository_arns    = [data.aws_ecr_repository.this["catalog"].arn, data.aws_ecr_repository.this["assets"].arn]
  chart_repository_arn     = data.aws_ecr_repository.this["charts/service"].arn

  tags = local.tags
}

module "aurora" {
  source = "../aurora-postgresql"

  name                      = local.name
  instance_class            = var.aurora_instance_class
  vpc_id                    = module.network.vpc_id
  subnet_ids                = values(module.network.database_subnet_ids)
  writer_availability_zone  = local.writer_az
  reader_availability_zones = local.reader_azs
  reader_autoscaling        = var.aurora_reader_autoscaling
  kms_key_arn               = module.aurora_key.key_arn
  backup_retention_period   = var.backup_retention_days
  deletion_protection       = var.deletion_protection
  alarm_topic_arn           = aws_sns_topic.alerts.arn
  dr_backup_vault_arn       = var.cross_region_backup ? aws_backup_vault.dr[0].arn : null

  # Pods reach Aurora from the nodes' security group (the VPC CNI gives pods the node's groups); the bastion
  # relays the operator's tunnel for the one-time bootstrap in deploy/terraform/vault.
  allowed_security_group_ids = {
    eks-nodes = module.eks.cluster_security_group_id
    bastion   = module.bastion.security_group_id
  }

  alarm_thresholds = {
    connections = var.aurora_max_connections_alarm
  }

  tags = local.tags
}

module "dr_key" {
  source = "../kms-key"
  count  = var.cross_region_backup ? 1 : 0

  providers = {
    aws = aws.dr
  }

  alias       = "${local.name}/aurora-dr"
  description = "${local.name} Aurora snapshot copies (disaster recovery region)"

  tags = local.tags
}

resource "aws_backup_vault" "dr" {
  count    = var.cross_region_backup ? 1 : 0
  provider = aws.dr

  name        = "${local.name}-aurora-dr"
  kms_key_arn = module.dr_key[0].key_arn

  tags = local.tags
}

module "cognito" {
  source = "../cognito"

  name                = local.name
  domain_prefix       = "${local.name}-${local.account}"
  deletion_protection = var.deletion_protection
  machine_clients     = var.machine_clients

  resource_servers = {
    catalog = { write = "Create, update and archive products" }
    assets  = { write = "Upload and delete product images" }
  }

  tags = local.tags
}

# The ALB's certificate (regional): the AWS Load Balancer Controller picks it for the Ingress hosts.
module "api_certificate" {
  source = "../acm-certificate"

  domain_name               = var.api_hostnames[0]
  subject_alternative_names = slice(var.api_hostnames, 1, length(var.api_hostnames))
  zone_id                   = data.aws_route53_zone.this.zone_id

  tags = local.tags
}

module "media_certificate" {
  source = "../acm-certificate"

  providers = {
    aws = aws.us_east_1
  }

  domain_name = var.media_hostname
  zone_id     = data.aws_route53_zone.this.zone_id

  tags = local.tags
}

module "media_cdn" {
  source = "../media-cdn"

  name                        = local.name
  hostname                    = var.media_hostname
  certificate_arn             = module.media_certificate.arn
  zone_id                     = data.aws_route53_zone.this.zone_id
  bucket_regional_domain_name = module.assets_bucket.regional_domain_name

  tags = local.tags
}

module "origin_protection" {
  source = "../origin-protection"

  name           = local.name
  vpc_id         = module.network.vpc_id
  vpc_cidr       = module.network.vpc_cidr
  secret_version = var.origin_secret_version

  tags = local.tags
}

# Workload identities. The chart renders the service accounts catalog, catalog-migrator, assets and
# assets-migrator in namespace studio; only Assets calls AWS (its bucket), so only it gets a role.
data "aws_iam_policy_document" "assets" {
  statement {
    sid       = "ProductImages"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
    resources = ["${module.assets_bucket.arn}/${var.assets_object_prefix}*"]
  }

  # SSE-KMS: presigned PUTs encrypt with the bucket key (GenerateDataKey), presigned GETs decrypt.
  statement {
    sid       = "BucketKey"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [module.assets_key.key_arn]
  }
}

module "assets_irsa" {
  source = "../irsa-role"

  name              = "${local.name}-assets"
  oidc_provider_arn = module.eks.oidc_provider_arn
  oidc_issuer       = module.eks.oidc_issuer
  namespace         = "studio"
  service_account   = "assets"
  inline_policies   = { product-images = data.aws_iam_policy_document.assets.json }

  tags = local.tags
}
