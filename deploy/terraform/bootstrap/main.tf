data "aws_caller_identity" "current" {}

module "state_key" {
  source = "../modules/kms-key"

  alias       = "studio/terraform-state"
  description = "Terraform state of every studio root"
}

# Versioned, so a corrupted or wrongly applied state can be rolled back to an earlier version.
module "state_bucket" {
  source = "../modules/s3-bucket"

  bucket                             = "studio-terraform-state-${data.aws_caller_identity.current.account_id}"
  kms_key_arn                        = module.state_key.key_arn
  noncurrent_version_expiration_days = 90
}
