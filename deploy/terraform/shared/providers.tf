provider "aws" {
  region = var.region

  default_tags {
    tags = merge(var.tags, { Project = "studio", ManagedBy = "terraform", Root = "shared" })
  }
}
