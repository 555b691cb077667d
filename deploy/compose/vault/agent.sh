#!/bin/sh
# Entry point of the Vault Agent containers. The chart's template names its database role as __DB_ROLE__ (the
# chart substitutes it when rendering the pod annotations); here sed does the same with DB_ROLE. The image's own
# entrypoint then starts the agent as the unprivileged vault user. Extra arguments go to `vault agent`
# (-exit-after-auth renders once and exits, like the injector's init container for the migrate Jobs).
set -eu
: "${DB_ROLE:?DB_ROLE must name the Vault database role whose credentials this agent renders}"

sed "s/__DB_ROLE__/$DB_ROLE/g" /vault/templates/database.json.ctmpl > /tmp/database.json.ctmpl
# A fresh named volume belongs to root; the agent writes into it as vault.
chown vault:vault /vault/secrets

exec docker-entrypoint.sh agent -config=/vault/compose/agent.hcl "$@"
