variable "name" {
  description = "Prefix of every resource name, e.g. studio-services."
  type        = string
}

variable "repository_name" {
  description = "CodeCommit repository of the application (the only repository that triggers builds; the GitOps repository never does)."
  type        = string
}

variable "branches" {
  description = "Branches that get a pipeline (test, build, push), each mapped to the environment its images are for."
  type        = map(string)
  default = {
    develop = "dev"
    staging = "staging"
    prod    = "prod"
  }
}

variable "artifact_bucket" {
  description = "Name of the encrypted bucket holding pipeline artifacts and the build cache."
  type        = string
}

variable "artifact_kms_key_arn" {
  description = "KMS key of the artifact bucket."
  type        = string
}

variable "ecr_repository_arns" {
  description = "ECR repositories the pipeline builds push to (service images and the chart); pull-request builds push nowhere."
  type        = list(string)
}

variable "ecr_registry" {
  description = "Registry host, <account>.dkr.ecr.<region>.amazonaws.com."
  type        = string
}

variable "build_image" {
  description = "CodeBuild image. The .NET SDK comes from global.json through dotnet-install, so any Ubuntu standard image works."
  type        = string
  default     = "aws/codebuild/standard:7.0"
}

variable "build_compute_type" {
  description = "CodeBuild compute type: the test suite runs real PostgreSQL and service processes, so it wants at least 4 vCPUs."
  type        = string
  default     = "BUILD_GENERAL1_MEDIUM"
}

variable "build_timeout_minutes" {
  description = "Build timeout in minutes."
  type        = number
  default     = 60
}

variable "log_retention_days" {
  description = "Days build logs are kept."
  type        = number
  default     = 90
}

variable "sonarqube" {
  description = "SonarQube server for the buildspec's optional static-analysis step: its URL and the ARN of the Secrets Manager secret holding an analysis token. null skips the step."
  type = object({
    host_url         = string
    token_secret_arn = string
  })
  default = null
}

variable "notification_topic_arn" {
  description = "SNS topic told about failed pipelines and pull-request builds; null disables notifications."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
