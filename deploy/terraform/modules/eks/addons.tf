locals {
  oidc_issuer = replace(aws_eks_cluster.this.identity[0].oidc[0].issuer, "https://", "")

  # The service accounts of the platform add-ons that get an AWS role, and the only place their names live in
  # Terraform. The GitOps platform (deploy/gitops/platform) installs each add-on with exactly this namespace and
  # service account name; a test cross-checks every IRSA trust policy against this map and the chart.
  # External Secrets Operator is absent on purpose: it reads Vault through Vault's Kubernetes auth, not AWS.
  addon_service_accounts = {
    aws-node = {
      namespace       = "kube-system"
      service_account = "aws-node"
      purpose         = "VPC CNI: attaches ENIs and assigns pod IPs"
    }
    ebs-csi = {
      namespace       = "kube-system"
      service_account = "ebs-csi-controller-sa"
      purpose         = "EBS CSI driver: volumes for Vault raft, Prometheus, Elasticsearch"
    }
    cluster-autoscaler = {
      namespace       = "kube-system"
      service_account = "cluster-autoscaler"
      purpose         = "Cluster Autoscaler: resizes this cluster's managed node groups"
    }
    aws-load-balancer-controller = {
      namespace       = "kube-system"
      service_account = "aws-load-balancer-controller"
      purpose         = "AWS Load Balancer Controller: the shared ALB, its target groups and rules"
    }
    argo-rollouts = {
      namespace       = "argo-rollouts"
      service_account = "argo-rollouts"
      purpose         = "Argo Rollouts: verifies the ALB's weights and target groups before scaling a stack down (--aws-verify-target-group)"
    }
    argocd-image-updater = {
      namespace       = "argocd"
      service_account = "argocd-image-updater"
      purpose         = "Argo CD Image Updater: lists the tags of the service images in ECR"
    }
    argocd-ecr-token = {
      namespace       = "argocd"
      service_account = "argocd-ecr-token"
      purpose         = "mints the ECR token of Argo CD's Helm OCI repository credential (chart pulls); tokens expire after 12 h"
    }
    argocd-backup = {
      namespace       = "argocd"
      service_account = "argocd-backup"
      purpose         = "Argo CD backup CronJob: writes exports to the backup bucket"
    }
    cert-manager = {
      namespace       = "cert-manager"
      service_account = "cert-manager"
      purpose         = "cert-manager: Let's Encrypt DNS-01 challenges in the Route53 zone"
    }
    vault = {
      namespace       = "vault"
      service_account = "vault"
      purpose         = "Vault: auto-unseal with the KMS key"
    }
    vault-snapshot = {
      namespace       = "vault"
      service_account = "vault-snapshot"
      purpose         = "Vault snapshot CronJob: writes raft snapshots to the backup bucket"
    }
    elasticsearch = {
      namespace       = "observability"
      service_account = "elasticsearch"
      purpose         = "Elasticsearch nodes: the S3 snapshot repository in the backup bucket"
    }
  }

  addon_managed_policies = {
    aws-node = ["arn:${local.partition}:iam::aws:policy/AmazonEKS_CNI_Policy"]
    ebs-csi  = ["arn:${local.partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"]
  }

  addon_inline_policies = {
    cluster-autoscaler           = { autoscaling = data.aws_iam_policy_document.cluster_autoscaler.json }
    aws-load-balancer-controller = { load-balancers = data.aws_iam_policy_document.aws_load_balancer_controller.json }
    argo-rollouts                = { verify-target-groups = data.aws_iam_policy_document.argo_rollouts.json }
    argocd-image-updater         = { read-images = data.aws_iam_policy_document.argocd_image_updater.json }
    argocd-ecr-token             = { read-chart = data.aws_iam_policy_document.argocd_ecr_token.json }
    argocd-backup                = { write-backups = data.aws_iam_policy_document.argocd_backup.json }
    cert-manager                 = { dns01 = data.aws_iam_policy_document.cert_manager.json }
    vault                        = { auto-unseal = data.aws_iam_policy_document.vault.json }
    vault-snapshot               = { write-snapshots = data.aws_iam_policy_document.vault_snapshot.json }
    elasticsearch                = { snapshot-repository = data.aws_iam_policy_document.elasticsearch_snapshots.json }
  }
}

module "addon_irsa" {
  source   = "../irsa-role"
  for_each = local.addon_service_accounts

  name                = "${var.name}-${each.key}"
  oidc_provider_arn   = aws_iam_openid_connect_provider.this.arn
  oidc_issuer         = local.oidc_issuer
  namespace           = each.value.namespace
  service_account     = each.value.service_account
  inline_policies     = lookup(local.addon_inline_policies, each.key, {})
  managed_policy_arns = toset(lookup(local.addon_managed_policies, each.key, []))

  tags = var.tags
}

data "aws_iam_policy_document" "cluster_autoscaler" {
  statement {
    sid = "Discover"
    actions = [
      "autoscaling:DescribeAutoScalingGroups",
      "autoscaling:DescribeAutoScalingInstances",
      "autoscaling:DescribeLaunchConfigurations",
      "autoscaling:DescribeScalingActivities",
      "autoscaling:DescribeTags",
      "ec2:DescribeImages",
      "ec2:DescribeInstanceTypes",
      "ec2:DescribeLaunchTemplateVersions",
      "ec2:GetInstanceTypesFromInstanceRequirements",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "DescribeOwnNodeGroups"
    actions   = ["eks:DescribeNodegroup"]
    resources = ["arn:${local.partition}:eks:*:*:nodegroup/${var.name}/*"]
  }

  # EKS tags the Auto Scaling groups of its managed node groups with k8s.io/cluster-autoscaler/<cluster>=owned.
  statement {
    sid       = "ResizeOwnNodeGroupsOnly"
    actions   = ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/k8s.io/cluster-autoscaler/${var.name}"
      values   = ["owned"]
    }
  }
}

data "aws_iam_policy_document" "argo_rollouts" {
  statement {
    sid       = "ReadTargetGroupRegistrations"
    actions   = ["elasticloadbalancing:Describe*"]
    resources = ["*"]
  }
}

data "aws_iam_policy_document" "argocd_image_updater" {
  statement {
    sid       = "Login"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  # newest-build reads each candidate's creation date from the image config blob: a layer download.
  statement {
    sid       = "ListTagsAndReadImageConfig"
    actions   = ["ecr:DescribeImages", "ecr:ListImages", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:DescribeRepositories"]
    resources = var.image_repository_arns
  }
}

data "aws_iam_policy_document" "argocd_ecr_token" {
  statement {
    sid       = "Login"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid       = "PullChart"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:DescribeImages"]
    resources = [var.chart_repository_arn]
  }
}

data "aws_iam_policy_document" "argocd_backup" {
  statement {
    sid       = "WriteExports"
    actions   = ["s3:PutObject", "s3:AbortMultipartUpload"]
    resources = ["${var.backup_bucket_arn}/argocd/*"]
  }

  statement {
    sid       = "EncryptExports"
    actions   = ["kms:GenerateDataKey"]
    resources = [var.backup_kms_key_arn]
  }
}

data "aws_iam_policy_document" "cert_manager" {
  statement {
    sid       = "FollowChanges"
    actions   = ["route53:GetChange"]
    resources = ["arn:${local.partition}:route53:::change/*"]
  }

  statement {
    sid       = "FindZone"
    actions   = ["route53:ListHostedZonesByName"]
    resources = ["*"]
  }

  statement {
    sid       = "ReadZone"
    actions   = ["route53:ListResourceRecordSets"]
    resources = [var.route53_zone_arn]
  }

  # DNS-01 only needs TXT records named _acme-challenge.*; nothing else in the zone can be changed.
  statement {
    sid       = "WriteChallengeRecordsOnly"
    actions   = ["route53:ChangeResourceRecordSets"]
    resources = [var.route53_zone_arn]

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "route53:ChangeResourceRecordSetsRecordTypes"
      values   = ["TXT"]
    }

    condition {
      test     = "ForAllValues:StringLike"
      variable = "route53:ChangeResourceRecordSetsNormalizedRecordNames"
      values   = ["_acme-challenge.*"]
    }
  }
}

# Write-only, like the Argo CD backup: a leaked role cannot read the snapshots (which hold every secret) back.
data "aws_iam_policy_document" "vault_snapshot" {
  statement {
    sid       = "WriteSnapshots"
    actions   = ["s3:PutObject", "s3:AbortMultipartUpload"]
    resources = ["${var.backup_bucket_arn}/vault/*"]
  }

  # Decrypt too: S3 needs it to complete a multipart upload (the aws CLI splits files above 8 MB) under SSE-KMS.
  # Without s3:GetObject the role still cannot read a snapshot back.
  statement {
    sid       = "EncryptSnapshots"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.backup_kms_key_arn]
  }
}

# Elasticsearch's S3 repository lists, reads, writes and deletes its own files (snapshot lifecycle retention
# deletes old snapshots; a restore reads them), under elasticsearch/ only: the permissions its documentation lists
# for a repository, narrowed to that prefix.
data "aws_iam_policy_document" "elasticsearch_snapshots" {
  statement {
    sid       = "ListRepository"
    actions   = ["s3:ListBucket", "s3:ListBucketVersions"]
    resources = [var.backup_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["elasticsearch/*", "elasticsearch"]
    }
  }

  # No s3:prefix condition key exists for these two.
  statement {
    sid       = "RepositoryBucket"
    actions   = ["s3:GetBucketLocation", "s3:ListBucketMultipartUploads"]
    resources = [var.backup_bucket_arn]
  }

  statement {
    sid       = "ReadWriteRepository"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    resources = ["${var.backup_bucket_arn}/elasticsearch/*"]
  }

  statement {
    sid       = "RepositoryKey"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.backup_kms_key_arn]
  }
}

data "aws_iam_policy_document" "vault" {
  statement {
    sid       = "AutoUnseal"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"]
    resources = [var.vault_unseal_kms_key_arn]
  }
}

# Before the nodes, because a node only becomes Ready once the CNI runs on it: the VPC CNI (aws-node) and kube-proxy.
# aws-node reaches the API server through the kubernetes Service's cluster IP, which only kube-proxy programs on
# the node; with bootstrap_self_managed_addons = false nothing else installs either, so nodes created before
# kube-proxy sit NotReady until it arrives (and a node group's creation can time out on them). Both are DaemonSets:
# created before any node exists they are simply Active with nothing scheduled yet. The CNI enforces network
# policies, so the chart's NetworkPolicies hold from the first pod.
resource "aws_eks_addon" "networking" {
  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = "vpc-cni"
  addon_version               = lookup(var.addon_versions, "vpc-cni", null)
  service_account_role_arn    = module.addon_irsa["aws-node"].arn
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"

  configuration_values = jsonencode({
    enableNetworkPolicy = "true"
  })

  tags = var.tags
}

resource "aws_eks_addon" "kube_proxy" {
  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = "kube-proxy"
  addon_version               = lookup(var.addon_versions, "kube-proxy", null)
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"

  tags = var.tags
}

# kube-proxy was one of aws_eks_addon.this until it had to come before the nodes.
moved {
  from = aws_eks_addon.this["kube-proxy"]
  to   = aws_eks_addon.kube_proxy
}

# After the nodes: CoreDNS and the EBS CSI controller are Deployments, which created without nodes wait, degraded,
# until the add-on's creation times out.
resource "aws_eks_addon" "this" {
  for_each = {
    coredns            = null
    aws-ebs-csi-driver = module.addon_irsa["ebs-csi"].arn
  }

  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = each.key
  addon_version               = lookup(var.addon_versions, each.key, null)
  service_account_role_arn    = each.value
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"

  tags = var.tags

  depends_on = [aws_eks_node_group.this]
}
