provider "aws" {
  region = var.region

  default_tags {
    tags = local.default_tags
  }
}

# CloudFront reads certificates from us-east-1 only.
provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"

  default_tags {
    tags = local.default_tags
  }
}

# Where Aurora snapshot copies go when cross_region_backup is on.
provider "aws" {
  alias  = "dr"
  region = var.dr_region

  default_tags {
    tags = local.default_tags
  }
}

# Root names the state that manages a resource (its key without /terraform.tfstate), so a resource found in the
# console leads to the state to change it in.
locals {
  default_tags = merge(var.tags, { Project = "studio", ManagedBy = "terraform", Root = "envs/${var.environment}" })
}
