# Only CloudFront may reach the ALB the AWS Load Balancer Controller creates. The controller owns the ALB's
# listeners and rules and deletes any rule it did not create, and a header condition in the Ingress would put the
# secret into Git, so the check lives in a WAF web ACL the Ingress attaches by ARN
# (alb.ingress.kubernetes.io/wafv2-acl-arn), next to a security group that admits CloudFront's origin-facing
# address ranges only (alb.ingress.kubernetes.io/security-groups). The address ranges say "some CloudFront
# distribution"; the secret header says "ours".

locals {
  generations = toset([tostring(var.secret_version), tostring(var.secret_version - 1)])
}

resource "random_password" "this" {
  for_each = local.generations

  length  = 48
  special = false
}

resource "aws_secretsmanager_secret" "this" {
  name                    = "${var.name}/cloudfront-origin-secret"
  description             = "Value CloudFront sends in ${var.header_name}; the ALB web ACL blocks requests without it"
  recovery_window_in_days = 7

  tags = var.tags
}

resource "aws_secretsmanager_secret_version" "this" {
  secret_id = aws_secretsmanager_secret.this.id
  secret_string = jsonencode({
    header = var.header_name
    value  = random_password.this[tostring(var.secret_version)].result
  })
}

resource "aws_wafv2_web_acl" "this" {
  name        = "${var.name}-origin"
  description = "Admit requests that carry CloudFront's origin secret"
  scope       = "REGIONAL"

  default_action {
    block {}
  }

  dynamic "rule" {
    for_each = local.generations

    content {
      name     = "origin-secret-${rule.value}"
      priority = tonumber(rule.value) == var.secret_version ? 0 : 1

      action {
        allow {}
      }

      statement {
        byte_match_statement {
          positional_constraint = "EXACTLY"
          search_string         = random_password.this[rule.value].result

          field_to_match {
            single_header {
              name = lower(var.header_name)
            }
          }

          text_transformation {
            priority = 0
            type     = "NONE"
          }
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        metric_name                = "${var.name}-origin-secret-${rule.value}"
        sampled_requests_enabled   = false
      }
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "${var.name}-origin-blocked"
    sampled_requests_enabled   = true
  }

  tags = var.tags
}

data "aws_ec2_managed_prefix_list" "cloudfront" {
  name = "com.amazonaws.global.cloudfront.origin-facing"
}

# The prefix list counts as about 55 rules against the security group's rule quota (60 by default).
resource "aws_security_group" "this" {
  name        = "${var.name}-alb"
  description = "ALB behind CloudFront: HTTPS from CloudFront origin-facing ranges only"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-alb" })
}

resource "aws_vpc_security_group_ingress_rule" "cloudfront" {
  security_group_id = aws_security_group.this.id
  description       = "HTTPS from CloudFront"
  prefix_list_id    = data.aws_ec2_managed_prefix_list.cloudfront.id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "pods" {
  security_group_id = aws_security_group.this.id
  description       = "API (8080) and health checks (8081) of the pods"
  cidr_ipv4         = var.vpc_cidr
  ip_protocol       = "tcp"
  from_port         = 8080
  to_port           = 8081
}
