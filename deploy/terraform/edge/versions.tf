terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }

  # One state per environment, under the key each environment has always had (envs/<env>/edge/terraform.tfstate):
  #   terraform init -reconfigure -backend-config=../backend.hcl -backend-config=envs/<env>.s3.tfbackend
  backend "s3" {
    encrypt      = true
    use_lockfile = true
  }
}
