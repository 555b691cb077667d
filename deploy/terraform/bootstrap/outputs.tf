# Write this to deploy/terraform/backend.hcl; every other root runs `terraform init -backend-config=<path>`
# and sets key, encrypt and use_lockfile in its own backend block.
output "backend_config" {
  description = "Partial backend configuration shared by every root."
  value       = <<-EOT
    bucket     = "${module.state_bucket.bucket}"
    region     = "${var.region}"
    kms_key_id = "${module.state_key.key_arn}"
  EOT
}
