terraform {
  required_version = ">= 1.11"

  required_providers {
    vault = {
      source  = "hashicorp/vault"
      version = "~> 5.0"
    }
    postgresql = {
      source  = "cyrilgdn/postgresql"
      version = "~> 1.26"
    }
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.7"
    }
  }

  # One state per environment: terraform init -reconfigure -backend-config=../backend.hcl -backend-config=envs/<env>.s3.tfbackend
  backend "s3" {
    encrypt      = true
    use_lockfile = true
  }
}
