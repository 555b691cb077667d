# The lifecycle policy as data, in a file of its own with no resource: EcrLifecycleTests evaluates it with
# terraform console (no provider needed) next to variables.tf, and runs ECR's rule evaluation on it.
# ECR evaluates rules by priority and an image matched by a rule's tag selection can never be expired by a later
# rule ("Lifecycle policy evaluation rules"), so the order is what keeps environments' images:
#   1. protected_tag_patterns (keep-*): selected first with a count no repository reaches, so never expired;
#   2. keep_per_tag_pattern: the newest N per branch; older ones expire (unless rule 1 selected them);
#   3. expire_after_days_per_tag_pattern: tags that are never deployed (candidate-* builds whose scan failed);
#   4. untagged images (layers of failed or superseded pushes).
locals {
  protected_rules = [for pattern in var.protected_tag_patterns : {
    description = "Never expire ${pattern}: images an environment was held at (deploy/runbooks/release-rollback.md)"
    selection = {
      tagStatus      = "tagged"
      tagPatternList = [pattern]
      countType      = "imageCountMoreThan"
      countNumber    = var.protected_count
    }
  }]
  keep_rules = [for pattern in sort(keys(var.keep_per_tag_pattern)) : {
    description = "Keep the ${var.keep_per_tag_pattern[pattern]} most recent ${pattern}"
    selection = {
      tagStatus      = "tagged"
      tagPatternList = [pattern]
      countType      = "imageCountMoreThan"
      countNumber    = var.keep_per_tag_pattern[pattern]
    }
  }]
  expire_rules = [for pattern in sort(keys(var.expire_after_days_per_tag_pattern)) : {
    description = "${pattern} after ${var.expire_after_days_per_tag_pattern[pattern]} days"
    selection = {
      tagStatus      = "tagged"
      tagPatternList = [pattern]
      countType      = "sinceImagePushed"
      countUnit      = "days"
      countNumber    = var.expire_after_days_per_tag_pattern[pattern]
    }
  }]
  untagged_rules = [{
    description = "Untagged images after ${var.untagged_expiry_days} days"
    selection = {
      tagStatus   = "untagged"
      countType   = "sinceImagePushed"
      countUnit   = "days"
      countNumber = var.untagged_expiry_days
    }
  }]
  rules = concat(local.protected_rules, local.keep_rules, local.expire_rules, local.untagged_rules)

  lifecycle_policy = jsonencode({
    rules = [for index, rule in local.rules : merge(rule, { rulePriority = index + 1, action = { type = "expire" } })]
  })
}
