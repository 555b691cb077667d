region      = "eu-west-1"
domain_name = "studio.example.com"

# Paste the public halves after `ssh-keygen -t rsa -b 4096 -f argocd-gitops` / `-f image-updater-gitops` (IAM
# takes RSA keys only for CodeCommit); the private halves go to Vault (deploy/terraform/README.md), never to Git.
gitops_reader_ssh_public_key = null
gitops_writer_ssh_public_key = null
