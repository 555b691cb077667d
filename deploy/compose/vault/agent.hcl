# Vault Agent as the chart's injector runs it next to each pod, with AppRole standing in for Kubernetes auth.
# Every agent container uses this file; agent.sh has already put the chart's template, with this agent's database
# role filled in, at /tmp/database.json.ctmpl.

vault {
  address = "http://vault:8200"
}

auto_auth {
  method "approle" {
    config = {
      role_id_file_path   = "/vault/approle/role-id"
      secret_id_file_path = "/vault/approle/secret-id"
      # The credentials are mounted read-only and must survive a restart of this container.
      remove_secret_id_file_after_reading = false
    }
  }
}

template_config {
  # Exit (compose restarts the container) rather than keep retrying while the service runs on credentials that
  # may no longer be current.
  exit_on_retry_failure = true
}

template {
  source      = "/tmp/database.json.ctmpl"
  destination = "/vault/secrets/database.json"
  # Readable by the service's user (UID 1654): the volume is mounted into that one service only.
  perms = "0444"
}
