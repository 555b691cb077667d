data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

# Key administration stays with the account (IAM policies decide who); services that encrypt on the caller's behalf
# (RDS, S3, EKS, ECR) need nothing here because they act with the caller's IAM permissions through kms:ViaService.
data "aws_iam_policy_document" "this" {
  statement {
    sid       = "AccountAdministersTheKeyThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  # SNS encrypts messages under the topic's ARN as encryption context, which every publishing service passes
  # along: that pins the grant to topics of this account whatever the service sends as its source.
  dynamic "statement" {
    for_each = length(var.sns_publishers) > 0 ? [1] : []

    content {
      sid       = "PublishToThisAccountsEncryptedTopics"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
      resources = ["*"]

      principals {
        type        = "Service"
        identifiers = var.sns_publishers
      }

      condition {
        test     = "StringLike"
        variable = "kms:EncryptionContext:aws:sns:topicArn"
        values   = ["arn:${data.aws_partition.current.partition}:sns:*:${data.aws_caller_identity.current.account_id}:*"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.service_grants

    content {
      sid       = statement.key
      actions   = statement.value.actions
      resources = ["*"]

      principals {
        type        = "Service"
        identifiers = [statement.value.principal]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceArn"
        values   = statement.value.source_arns
      }
    }
  }
}

resource "aws_kms_key" "this" {
  description             = var.description
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_in_days
  policy                  = data.aws_iam_policy_document.this.json

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.alias}"
  target_key_id = aws_kms_key.this.key_id
}
