# Local state on purpose: this root creates the bucket every other root keeps its state in. Its state holds two
# resources that can be re-imported (terraform import) if the file is lost.
terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }
}
