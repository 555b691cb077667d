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

  # One state per environment, under the key each environment has always had (envs/<env>/terraform.tfstate):
  #   terraform init -reconfigure -backend-config=../backend.hcl -backend-config=envs/<env>.s3.tfbackend
  # ../backend.hcl (bootstrap output) sets bucket, region and kms_key_id; envs/<env>.s3.tfbackend sets key.
  backend "s3" {
    encrypt      = true
    use_lockfile = true
  }
}
