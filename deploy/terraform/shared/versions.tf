terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }

  # bucket, region and kms_key_id come from ../backend.hcl (written from the bootstrap root's output).
  # use_lockfile: S3-native locking (a .tflock object beside the state, Terraform >= 1.10); no DynamoDB table.
  backend "s3" {
    key          = "shared/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}
