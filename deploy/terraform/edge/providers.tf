provider "aws" {
  region = var.region

  default_tags {
    tags = local.default_tags
  }
}

provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"

  default_tags {
    tags = local.default_tags
  }
}

# Root names the state that manages a resource (its key without /terraform.tfstate), so a resource found in the
# console leads to the state to change it in.
locals {
  default_tags = merge(var.tags, { Project = "studio", ManagedBy = "terraform", Root = "envs/${var.environment}/edge" })
}
