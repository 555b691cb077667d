data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  registry  = "${local.account}.dkr.ecr.${data.aws_region.current.region}.amazonaws.com"

  # One repository per service image and one for the chart (helm push oci://<registry>/charts stores the chart
  # named service in charts/service). What an environment runs must never expire (EcrLifecycleTests):
  # - images: the newest builds per branch (an environment runs its branch's newest, or a hold, tagged keep-*);
  #   candidate-* (pushed before the scan, buildspec.yml) expire once they can no longer pass it;
  # - charts: every version is kept. argocd/releases/<env>.yaml pins one by reviewed commit for as long as it
  #   likes, however many builds come after it; a version is ~50 KB.
  image_lifecycle = {
    keep                              = var.image_retention
    expire_after_days_per_tag_pattern = { "candidate-*" = var.candidate_expiry_days }
  }
  repositories = {
    "catalog"        = local.image_lifecycle
    "assets"         = local.image_lifecycle
    "charts/service" = { keep = {}, expire_after_days_per_tag_pattern = {} }
  }
}

resource "aws_route53_zone" "this" {
  name    = var.domain_name
  comment = "studio: public names of every environment (API, images, certificates' validation records)"
}

module "ecr_key" {
  source = "../modules/kms-key"

  alias       = "studio/ecr"
  description = "studio container images and Helm chart"
}

module "ecr" {
  source   = "../modules/ecr-repository"
  for_each = local.repositories

  name                              = each.key
  kms_key_arn                       = module.ecr_key.key_arn
  keep_per_tag_pattern              = each.value.keep
  expire_after_days_per_tag_pattern = each.value.expire_after_days_per_tag_pattern
}

# CodeCommit encrypts with its AWS-managed key: a customer-managed key would need KMS permissions for every
# developer, pipeline role and GitOps user on top of their CodeCommit ones.
resource "aws_codecommit_repository" "app" {
  repository_name = var.app_repository_name
  description     = "Application: services, tests, chart source, buildspec.yml (pushes build and publish)"
  default_branch  = "develop"
}

resource "aws_codecommit_repository" "gitops" {
  repository_name = var.gitops_repository_name
  description     = "GitOps: per-environment values, Argo CD objects, platform add-ons (never triggers a build)"
  default_branch  = "main"
}

# The image pins (deploy/image-pins): the only repository Image Updater's key can push to. CodeCommit's IAM cannot
# scope a push by path, and the GitOps repository feeds the platform project, which may create cluster-scoped
# objects; here a stolen write-back key can change only which build of a service runs (the studio project alone reads
# this repository, as values files of the services' chart).
resource "aws_codecommit_repository" "image_pins" {
  repository_name = var.image_pins_repository_name
  description     = "Image pins: the image tag each service runs per environment, written by Argo CD Image Updater"
  default_branch  = "main"
}

module "artifacts_key" {
  source = "../modules/kms-key"

  alias       = "studio/pipeline-artifacts"
  description = "studio pipeline artifacts and build cache"
}

module "artifacts_bucket" {
  source = "../modules/s3-bucket"

  bucket      = "studio-pipeline-artifacts-${local.account}"
  kms_key_arn = module.artifacts_key.key_arn

  # Source zips, images.json and the NuGet/tool cache are rebuilt on demand; a month of history is enough.
  lifecycle_rules = [{
    id              = "expire"
    expiration_days = 30
  }]
  noncurrent_version_expiration_days = 7
}

module "ci_alerts_key" {
  source = "../modules/kms-key"

  alias          = "studio/ci-alerts"
  description    = "studio CI notification topic"
  sns_publishers = ["codestar-notifications.amazonaws.com"]
}

resource "aws_sns_topic" "ci" {
  name              = "studio-ci"
  kms_master_key_id = module.ci_alerts_key.key_arn
}

data "aws_iam_policy_document" "ci_topic" {
  statement {
    sid       = "CodeStarNotificationsPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.ci.arn]

    principals {
      type        = "Service"
      identifiers = ["codestar-notifications.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_sns_topic_policy" "ci" {
  arn    = aws_sns_topic.ci.arn
  policy = data.aws_iam_policy_document.ci_topic.json
}

resource "aws_sns_topic_subscription" "ci_email" {
  count = var.ci_notification_email == null ? 0 : 1

  topic_arn = aws_sns_topic.ci.arn
  protocol  = "email"
  endpoint  = var.ci_notification_email
}

module "pipeline" {
  source = "../modules/pipeline"

  name                   = "studio-services"
  repository_name        = aws_codecommit_repository.app.repository_name
  artifact_bucket        = module.artifacts_bucket.bucket
  artifact_kms_key_arn   = module.artifacts_key.key_arn
  ecr_registry           = local.registry
  ecr_repository_arns    = [for repository in module.ecr : repository.arn]
  notification_topic_arn = aws_sns_topic.ci.arn
  sonarqube              = var.sonarqube
}

# Git over SSH for the in-cluster GitOps tools: IRSA does not cover git, and SSH keys keep the secret out of the
# Terraform state (HTTPS Git credentials would be generated here and stored in it). Argo CD only reads both
# repositories; Image Updater may push to the image pins' main branch and nothing else, and reads nothing else.
resource "aws_iam_user" "gitops" {
  for_each = toset(["reader", "writer"])

  name = "studio-gitops-${each.key}"
  path = "/gitops/"
}

data "aws_iam_policy_document" "gitops_reader" {
  statement {
    sid       = "Clone"
    actions   = ["codecommit:GitPull"]
    resources = [aws_codecommit_repository.gitops.arn, aws_codecommit_repository.image_pins.arn]
  }
}

data "aws_iam_policy_document" "gitops_writer" {
  statement {
    sid       = "CloneAndPushPins"
    actions   = ["codecommit:GitPull", "codecommit:GitPush"]
    resources = [aws_codecommit_repository.image_pins.arn]
  }

  # CodeCommit's documented branch restriction: a push that updates any other reference is refused.
  statement {
    sid       = "OnlyThePinsBranch"
    effect    = "Deny"
    actions   = ["codecommit:GitPush"]
    resources = [aws_codecommit_repository.image_pins.arn]

    condition {
      test     = "StringNotEqualsIfExists"
      variable = "codecommit:References"
      values   = ["refs/heads/${aws_codecommit_repository.image_pins.default_branch}"]
    }

    condition {
      test     = "Null"
      variable = "codecommit:References"
      values   = ["false"]
    }
  }
}

resource "aws_iam_user_policy" "gitops" {
  for_each = {
    reader = data.aws_iam_policy_document.gitops_reader.json
    writer = data.aws_iam_policy_document.gitops_writer.json
  }

  name   = "gitops-${each.key}"
  user   = aws_iam_user.gitops[each.key].name
  policy = each.value
}

resource "aws_iam_user_ssh_key" "gitops" {
  for_each = {
    for access, key in { reader = var.gitops_reader_ssh_public_key, writer = var.gitops_writer_ssh_public_key } : access => key if key != null
  }

  username   = aws_iam_user.gitops[each.key].name
  encoding   = "SSH"
  public_key = each.value
}
