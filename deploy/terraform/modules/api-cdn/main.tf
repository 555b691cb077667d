# How CloudFront finds the ALB: the AWS Load Balancer Controller creates it when Argo CD syncs the chart's
# Ingresses, so it cannot be an output of the environment root. The controller tags every ALB it owns with the
# cluster name and the IngressGroup (elbv2.k8s.aws/cluster, ingress.k8s.aws/stack); this lookup fails until that ALB
# exists, which is why the edge root is applied after the bootstrap.
data "aws_lb" "this" {
  tags = {
    "elbv2.k8s.aws/cluster" = var.cluster_name
    "ingress.k8s.aws/stack" = var.ingress_group
  }
}

data "aws_secretsmanager_secret_version" "origin" {
  secret_id = var.origin_secret_arn
}

data "aws_cloudfront_origin_request_policy" "all_viewer" {
  name = "Managed-AllViewer"
}

data "aws_cloudfront_response_headers_policy" "security_headers" {
  name = "Managed-SecurityHeadersPolicy"
}

locals {
  origin_secret = jsondecode(data.aws_secretsmanager_secret_version.origin.secret_string)
}

# GET and HEAD responses are cached only as long as the origin's Cache-Control allows (default TTL 0: no header,
# no caching; the services answer public reads with max-age and read-your-writes reads with private, no-store).
# CloudFront never caches POST, PUT, PATCH or DELETE. The key holds the whole query string (filters, cursors),
# the read-your-writes token, and Authorization: CloudFront forwards Authorization only when it is part of the
# key, and keying on it keeps one caller's authorised answer from being served to another.
resource "aws_cloudfront_cache_policy" "this" {
  name        = "${var.name}-api"
  comment     = "Origin Cache-Control decides; keyed on query string, read-your-writes token and Authorization"
  min_ttl     = 0
  default_ttl = 0
  max_ttl     = var.max_ttl_seconds

  parameters_in_cache_key_and_forwarded_to_origin {
    enable_accept_encoding_gzip   = true
    enable_accept_encoding_brotli = true

    query_strings_config {
      query_string_behavior = "all"
    }

    headers_config {
      header_behavior = "whitelist"

      headers {
        items = [var.read_your_writes_header, "Authorization"]
      }
    }

    cookies_config {
      cookie_behavior = "none"
    }
  }
}

resource "aws_cloudfront_distribution" "this" {
  enabled         = true
  comment         = "${var.name} API"
  aliases         = var.hostnames
  price_class     = var.price_class
  http_version    = "http2and3"
  is_ipv6_enabled = true

  origin {
    origin_id   = "alb"
    domain_name = data.aws_lb.this.dns_name

    custom_origin_config {
      http_port                = 80
      https_port               = 443
      origin_protocol_policy   = "https-only"
      origin_ssl_protocols     = ["TLSv1.2"]
      origin_read_timeout      = 30
      origin_keepalive_timeout = 5
    }

    custom_header {
      name  = local.origin_secret.header
      value = local.origin_secret.value
    }
  }

  # Host is forwarded (AllViewer): the ALB routes by it and presents the certificate of the public name, which is
  # the name CloudFront verifies when the Host header is forwarded.
  default_cache_behavior {
    target_origin_id           = "alb"
    allowed_methods            = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
    cached_methods             = ["GET", "HEAD"]
    viewer_protocol_policy     = "https-only"
    cache_policy_id            = aws_cloudfront_cache_policy.this.id
    origin_request_policy_id   = data.aws_cloudfront_origin_request_policy.all_viewer.id
    response_headers_policy_id = data.aws_cloudfront_response_headers_policy.security_headers.id
    compress                   = true
  }

  # CloudFront would otherwise keep an error without Cache-Control for 10 s: one 503 during a failover would be
  # served to everybody, and a 404 would outlive the create that follows it.
  dynamic "custom_error_response" {
    for_each = toset([400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504])

    content {
      error_code            = custom_error_response.value
      error_caching_min_ttl = 0
    }
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    acm_certificate_arn      = var.certificate_arn
    ssl_support_method       = "sni-only"
    minimum_protocol_version = "TLSv1.2_2021"
  }

  tags = var.tags
}

resource "aws_route53_record" "this" {
  for_each = { for pair in setproduct(var.hostnames, ["A", "AAAA"]) : "${pair[0]}/${pair[1]}" => { name = pair[0], type = pair[1] } }

  zone_id = var.zone_id
  name    = each.value.name
  type    = each.value.type

  alias {
    name                   = aws_cloudfront_distribution.this.domain_name
    zone_id                = aws_cloudfront_distribution.this.hosted_zone_id
    evaluate_target_health = false
  }
}
