terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.7"
    }
    tls = {
      source  = "hashicorp/tls"
      version = "~> 4.0"
    }
  }

  # bucket, region and kms_key_id come from ../../backend.hcl (terraform init -backend-config=../../backend.hcl).
  backend "s3" {
    key          = "envs/staging/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}
