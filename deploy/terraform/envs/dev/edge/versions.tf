terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }

  # bucket, region and kms_key_id come from ../../../backend.hcl.
  backend "s3" {
    key          = "envs/dev/edge/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}
