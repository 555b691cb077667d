#!/usr/bin/env bash
# Runs the workload on this machine without Docker: a PostgreSQL writer and a streaming-replication reader, an
# S3-compatible store (s3rver) for the Assets bucket, migrations (as the migrator roles), then the services (as their
# least-privilege roles) with Vault-style secrets files. Prints the URLs and a dev write token and writes them to
# .local/run.env.
#   ./run.sh          start (foreground; Ctrl-C stops everything it started)
#   ./run.sh stop     stop what a previous ./run.sh left running
#   ./run.sh token    print a fresh dev token
# State lives in .local/ (git-ignored; RUN_STATE_DIR moves it): database files, secrets, logs. Delete it to start
# from scratch. Every port has a variable below (PG_PRIMARY_PORT=… ./run.sh) for when one is taken.
set -euo pipefail
cd "$(dirname "$0")"
. tools/deps.sh
. tools/postgres.sh

ROOT=$PWD
STATE=${RUN_STATE_DIR:-$ROOT/.local}
PG_PRIMARY_PORT=${PG_PRIMARY_PORT:-55432}
PG_STANDBY_PORT=${PG_STANDBY_PORT:-55433}
CATALOG_PORT=${CATALOG_PORT:-5100}
CATALOG_MANAGEMENT_PORT=${CATALOG_MANAGEMENT_PORT:-5101}
ASSETS_PORT=${ASSETS_PORT:-5200}
ASSETS_MANAGEMENT_PORT=${ASSETS_MANAGEMENT_PORT:-5201}
S3_PORT=${S3_PORT:-5300}
# DEV-ONLY: the one key pair s3rver accepts. Assets reads them as the AWS SDK's standard variables, never from
# configuration; in AWS it gets credentials from IRSA instead.
S3_ACCESS_KEY=S3RVER
S3_SECRET_KEY=S3RVER
CONFIGURATION=Release

log() { printf '\033[1m%s\033[0m\n' "$*" >&2; }

stop_all() {
  if [ -f "$STATE/pids" ]; then
    while read -r pid; do kill "$pid" 2>/dev/null || true; done < "$STATE/pids"
    rm -f "$STATE/pids"
  fi
  pg_cluster_stop "$STATE/pg"
}

dev_token() {
  # DEV-ONLY: signed with the local key in .local/signing-key; the services accept it only because run.sh configures that key.
  ( cd "src/Catalog.Api/bin/$CONFIGURATION/net10.0"
    Auth__SigningKey="$(cat "$STATE/signing-key")" Auth__Audiences__0=local-dev \
      Secrets__Directory="$STATE/secrets/catalog" Database__Writer="Host=127.0.0.1;Port=$PG_PRIMARY_PORT;Database=catalog" \
      dotnet Catalog.Api.dll dev-token --scope "catalog:write assets:write" )
}

# write_secrets DIR USER PASSWORD — the file Vault Agent renders in a cluster (DEV-ONLY passwords from bootstrap.sql).
write_secrets() {
  mkdir -p "$1"; chmod 700 "$1"
  printf '{"Database":{"Username":"%s","Password":"%s"}}\n' "$2" "$3" > "$1/database.json"
  chmod 600 "$1/database.json"
}

# service_env NAME — the configuration the chart gives a service, with local endpoints.
service_env() {
  local name=$1
  echo "Database__Writer=Host=127.0.0.1;Port=$PG_PRIMARY_PORT;Database=$name"
  echo "Database__Reader=Host=127.0.0.1;Port=$PG_STANDBY_PORT;Database=$name"
  echo "Auth__SigningKey=$(cat "$STATE/signing-key")"
  echo "Auth__Audiences__0=local-dev"
  echo "Hosting__BindAddress=127.0.0.1"
  echo "Shutdown__DrainDelay=00:00:00"
  if [ "$name" = assets ]; then
    echo "CatalogClient__BaseUrl=http://127.0.0.1:$CATALOG_PORT"
    echo "Storage__Bucket=assets"
    echo "Storage__ServiceUrl=http://127.0.0.1:$S3_PORT"
    echo "Storage__Region=us-east-1"
    echo "AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY"
    echo "AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY"
    echo "AWS_EC2_METADATA_DISABLED=true"
  fi
}

# The Assets bucket: s3rver (installed into .tools/ from tools/package-lock.json) with its data in .local/s3.
start_s3() {
  mkdir -p "$STATE/s3"
  node "$TOOLS_DIR/node_modules/s3rver/bin/s3rver.js" --directory "$STATE/s3" --address 127.0.0.1 --port "$S3_PORT" \
    --silent --no-vhost-buckets --configure-bucket assets >"$STATE/logs/s3.log" 2>&1 &
  echo $! >> "$STATE/pids"
  for _ in $(seq 60); do
    (exec 3<>"/dev/tcp/127.0.0.1/$S3_PORT") 2>/dev/null && return 0
    kill -0 "$!" 2>/dev/null || { cat "$STATE/logs/s3.log" >&2; return 1; }
    sleep 0.25
  done
  echo "s3rver did not start; see $STATE/logs/s3.log" >&2; return 1
}

# Services run from their output folder: that is their content root (appsettings.json), as in the container.
migrate() { # migrate NAME PROJECT
  ( cd "src/$2/bin/$CONFIGURATION/net10.0"
    env $(service_env "$1" | tr '\n' ' ') Database__Reader= Secrets__Directory="$STATE/secrets/$1-migrator" \
      dotnet "$2.dll" migrate ) >>"$STATE/logs/$1-migrate.log"
}

start_service() { # start_service NAME PROJECT API_PORT MANAGEMENT_PORT
  local name=$1 project=$2
  ( export $(service_env "$name" | tr '\n' ' ')
    export Secrets__Directory="$STATE/secrets/$name" Hosting__ApiPort=$3 Hosting__ManagementPort=$4
    cd "src/$project/bin/$CONFIGURATION/net10.0"
    exec dotnet "$project.dll" ) >"$STATE/logs/$name.log" 2>&1 &
  echo $! >> "$STATE/pids"
  for _ in $(seq 120); do
    curl -fs "http://127.0.0.1:$4/health/ready" >/dev/null 2>&1 && return 0
    kill -0 "$!" 2>/dev/null || { tail -n 20 "$STATE/logs/$name.log" >&2; return 1; }
    sleep 0.5
  done
  echo "$name did not become ready; see $STATE/logs/$name.log" >&2; return 1
}

case "${1:-start}" in
  stop) stop_all; exit 0 ;;
  token) dev_token; exit 0 ;;
  start) ;;
  *) echo "usage: ./run.sh [start|stop|token]" >&2; exit 2 ;;
esac

deps_dotnet
deps_postgres
deps_node_tools
apt_ensure "command -v curl:curl"
stop_all
for port_var in PG_PRIMARY_PORT PG_STANDBY_PORT CATALOG_PORT CATALOG_MANAGEMENT_PORT ASSETS_PORT ASSETS_MANAGEMENT_PORT S3_PORT; do
  if (exec 3<>"/dev/tcp/127.0.0.1/${!port_var}") 2>/dev/null; then
    echo "Port ${!port_var} ($port_var) is already in use on 127.0.0.1; free it or run with $port_var=<another port> ./run.sh" >&2; exit 1
  fi
done
mkdir -p "$STATE/logs"
[ -f "$STATE/signing-key" ] || { head -c 32 /dev/urandom | base64 > "$STATE/signing-key"; chmod 600 "$STATE/signing-key"; }
trap 'exit 0' INT TERM
trap stop_all EXIT

log "Building (dotnet build -c $CONFIGURATION)"
quiet_build src/Catalog.Api -c "$CONFIGURATION" -nologo
quiet_build src/Assets.Api -c "$CONFIGURATION" -nologo
[ -f "$STATE/pg/primary/PG_VERSION" ] || log "Creating the PostgreSQL writer and its streaming reader in $STATE/pg"
pg_cluster_start "$STATE/pg" "$PG_PRIMARY_PORT" "$PG_STANDBY_PORT"

write_secrets "$STATE/secrets/catalog" catalog_app dev-only-catalog-app
write_secrets "$STATE/secrets/catalog-migrator" catalog_migrator dev-only-catalog-migrator
log "Migrating catalog (as catalog_migrator)"
migrate catalog Catalog.Api
log "Starting catalog (as catalog_app)"
start_service catalog Catalog.Api "$CATALOG_PORT" "$CATALOG_MANAGEMENT_PORT"
log "Starting the S3-compatible store (s3rver, bucket assets)"
start_s3
write_secrets "$STATE/secrets/assets" assets_app dev-only-assets-app
write_secrets "$STATE/secrets/assets-migrator" assets_migrator dev-only-assets-migrator
log "Migrating assets (as assets_migrator)"
migrate assets Assets.Api
log "Starting assets (as assets_app)"
start_service assets Assets.Api "$ASSETS_PORT" "$ASSETS_MANAGEMENT_PORT"

DEV_TOKEN=$(dev_token)
cat > "$STATE/run.env" <<ENV
CATALOG_URL=http://127.0.0.1:$CATALOG_PORT
CATALOG_MANAGEMENT_URL=http://127.0.0.1:$CATALOG_MANAGEMENT_PORT
ASSETS_URL=http://127.0.0.1:$ASSETS_PORT
ASSETS_MANAGEMENT_URL=http://127.0.0.1:$ASSETS_MANAGEMENT_PORT
DEV_TOKEN=$DEV_TOKEN
ENV
cat <<SUMMARY

  Catalog API         http://127.0.0.1:$CATALOG_PORT/api/v1/products   (OpenAPI: /openapi/v1.json)
  Catalog management  http://127.0.0.1:$CATALOG_MANAGEMENT_PORT/health/ready · /metrics
  Assets API          http://127.0.0.1:$ASSETS_PORT/api/v1/products/{productId}/assets   (OpenAPI: /openapi/v1.json)
  Assets management   http://127.0.0.1:$ASSETS_MANAGEMENT_PORT/health/ready · /metrics
  S3 (s3rver)         http://127.0.0.1:$S3_PORT/assets   (data in $STATE/s3)
  PostgreSQL          writer 127.0.0.1:$PG_PRIMARY_PORT · reader 127.0.0.1:$PG_STANDBY_PORT
  Logs                $STATE/logs/
  Dev write token     in $STATE/run.env (DEV_TOKEN) — DEV-ONLY, valid 8 h; ./run.sh token prints a new one

  source $STATE/run.env   then try the README's curl examples. Ctrl-C (or ./run.sh stop) stops everything.
SUMMARY
wait
