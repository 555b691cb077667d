output "zone_name_servers" {
  description = "Name servers to delegate domain_name to at the parent domain."
  value       = aws_route53_zone.this.name_servers
}

output "ecr_registry" {
  description = "Registry host of the images and the chart."
  value       = local.registry
}

output "ecr_repository_urls" {
  description = "Repository URL per image and for the chart."
  value       = { for name, repository in module.ecr : name => repository.url }
}

output "app_repository_clone_url_ssh" {
  description = "Where developers push the application (this repository)."
  value       = aws_codecommit_repository.app.clone_url_ssh
}

output "gitops_repository_clone_url_ssh" {
  description = "Where deploy/gitops is pushed at bootstrap; Argo CD's repository URL (ssh://<SSH key ID>@<host>/...)."
  value       = aws_codecommit_repository.gitops.clone_url_ssh
}

output "image_pins_repository_clone_url_ssh" {
  description = "Where deploy/image-pins is pushed at bootstrap; Image Updater writes the environments' image tags there."
  value       = aws_codecommit_repository.image_pins.clone_url_ssh
}

output "gitops_ssh_key_ids" {
  description = "SSH key IDs (the user part of the ssh:// URL) of Argo CD (reader) and Image Updater (writer)."
  value       = { for access, key in aws_iam_user_ssh_key.gitops : access => key.ssh_public_key_id }
}

output "pipelines" {
  description = "Pipeline name per branch."
  value       = module.pipeline.pipeline_names
}
