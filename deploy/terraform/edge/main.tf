# Applied after Argo CD has synced the chart: the ALB only exists once the AWS Load Balancer Controller has
# reconciled the Ingresses. Everything else is found by name, so this root needs no other root's state.
locals {
  name = "studio-${var.environment}"
}

data "aws_route53_zone" "this" {
  name         = var.domain_name
  private_zone = false
}

data "aws_secretsmanager_secret" "origin" {
  name = "${local.name}/cloudfront-origin-secret"
}

module "certificate" {
  source = "../modules/acm-certificate"

  providers = {
    aws = aws.us_east_1
  }

  domain_name               = var.api_hostnames[0]
  subject_alternative_names = slice(var.api_hostnames, 1, length(var.api_hostnames))
  zone_id                   = data.aws_route53_zone.this.zone_id
}

module "api_cdn" {
  source = "../modules/api-cdn"

  name              = local.name
  hostnames         = var.api_hostnames
  certificate_arn   = module.certificate.arn
  zone_id           = data.aws_route53_zone.this.zone_id
  cluster_name      = local.name
  ingress_group     = var.ingress_group
  origin_secret_arn = data.aws_secretsmanager_secret.origin.arn
  price_class       = var.price_class
}
