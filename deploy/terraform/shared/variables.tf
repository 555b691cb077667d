variable "region" {
  description = "Region of the account-wide resources (the same as the environments', so ECR pulls stay in-region)."
  type        = string
}

variable "domain_name" {
  description = "Public DNS zone of the project, e.g. studio.example.com; delegate it from the parent domain's registrar after the first apply."
  type        = string
}

variable "app_repository_name" {
  description = "CodeCommit repository of the application (this repository): the only one that triggers builds."
  type        = string
  default     = "studio-services"
}

variable "gitops_repository_name" {
  description = "CodeCommit repository of the GitOps content (deploy/gitops pushed at bootstrap): read by Argo CD, written by Image Updater, never built."
  type        = string
  default     = "studio-gitops"
}

variable "image_pins_repository_name" {
  description = "CodeCommit repository of the image pins (deploy/image-pins pushed at bootstrap): written by Image Updater, read by the services' Applications only."
  type        = string
  default     = "studio-image-pins"
}

variable "gitops_reader_ssh_public_key" {
  description = "SSH public key of Argo CD's read-only access to the GitOps repository (the private key goes to Vault, platform/argocd/gitops-repo); null until generated."
  type        = string
  default     = null
}

variable "gitops_writer_ssh_public_key" {
  description = "SSH public key of Image Updater's write-back access to the image pins repository (the private key goes to Vault, platform/argocd-image-updater/git); null until generated."
  type        = string
  default     = null
}

variable "image_retention" {
  description = "Most recent service images kept per branch (ECR tag pattern <branch>-*); prod keeps the most. Older ones stay only if tagged keep-* (a hold, deploy/runbooks/release-rollback.md)."
  type        = map(number)
  default = {
    "develop-*" = 30
    "staging-*" = 30
    "prod-*"    = 100
  }
}

variable "candidate_expiry_days" {
  description = "Days after which an image tagged only candidate-<branch>-<sha> (pushed, its scan never passed) is deleted."
  type        = number
  default     = 14
}

variable "sonarqube" {
  description = "SonarQube server for the pipeline's optional static analysis (buildspec.yml): URL and the ARN of a Secrets Manager secret with an analysis token; null skips it."
  type = object({
    host_url         = string
    token_secret_arn = string
  })
  default = null
}

variable "ci_notification_email" {
  description = "Address told about failed pipelines and pull-request builds; null subscribes nobody."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
