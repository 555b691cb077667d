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

locals {
  default_tags = merge(var.tags, { Project = "studio", ManagedBy = "terraform", Root = "envs/${var.environment}/edge" })
}
