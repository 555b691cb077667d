#!/bin/sh
# One-shot (profile `logging`): the Kibana data view over the services' log indices, so Discover shows the logs
# on first open. Overwrites the view if it exists, so it is safe on every `docker compose up`.
set -eu
curl --fail --silent --show-error -X POST http://kibana:5601/api/data_views/data_view \
  -H 'kbn-xsrf: compose' -H 'Content-Type: application/json' \
  -d '{"override": true, "data_view": {"id": "services", "name": "Services", "title": "services-*", "timeFieldName": "@timestamp"}}' \
  >/dev/null
echo "kibana-init: data view services-* ready"
