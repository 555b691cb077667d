#!/usr/bin/env bash
# Benchmarks, side by side in one run on one machine (absolute numbers on shared machines vary; the ratios are the
# result). Not part of ./test.sh. Writes bench/results/report.md and bench/results/report.json.
#
#   bench/run.sh                       # defaults: 3 rounds, 32 connections, 10 s per scenario after a 3 s warm-up
#   CONNECTIONS=64 DURATION=20 ROUNDS=5 bench/run.sh
#
# Shared machines drift by ±30 % from one minute to the next, so the targets run in interleaved rounds and the report
# shows medians; CPU time per request (from /proc) is reported too, as it depends less on what else runs.
#
# Targets, all on the same PostgreSQL writer + streaming reader:
#   raw            bench/RawFloor: the same queries with plain Npgsql, no EF Core, telemetry, auth or validation
#   service-on     Catalog (products) and Assets (asset metadata) with everything on as the chart deploys it:
#                  traces exported over OTLP (sampler parentbased_traceidratio 0.1, the chart's default), request
#                  logs, metrics
#   service-off    the same with tracing (OTEL_SDK_DISABLED) and request logs off
#   pgbench        pgbench -S (select-only) against the reader at the same connection count: the database's own limit
#
# To see what the telemetry costs, part by part: TARGETS="service-on service-traces service-logs service-off" bench/run.sh
#   service-traces tracing on (as service-on), request logs off
#   service-logs   request logs on, tracing off
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/deps.sh
. tools/postgres.sh

CONNECTIONS=${CONNECTIONS:-32}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
# Each freshly started target first runs every scenario for a while: tiered compilation has to reach optimized code
# for the whole request path before anything is measured, and on a saturated 2-core machine that takes seconds
# (measured: the service's GET by id ran at 8.6k req/s after 3 s of warm-up and 11.3k after 12 s; the raw floor,
# with far less code, is warm after 3 s).
TARGET_WARMUP=${TARGET_WARMUP:-16}
# The chart's defaults (deploy/helm/service/values.yaml telemetry.sampler/samplerArg); TRACES_SAMPLER=always_on measures
# tracing every request.
TRACES_SAMPLER=${TRACES_SAMPLER:-parentbased_traceidratio}
TRACES_SAMPLER_ARG=${TRACES_SAMPLER_ARG:-0.1}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
TARGETS=${TARGETS:-raw service-on service-off}
SEED_ROWS=${SEED_ROWS:-10000}
# PROFILE=1: while round 1 measures GET by id, dotnet-trace samples each target's threads (dotnet-sampled-thread-time)
# into bench/results/profile-<target>-get-by-id.nettrace (open in PerfView or speedscope) and writes its top methods to
# profile-<target>-get-by-id.top.txt. The profiler costs throughput: take the table from a run without it.
PROFILE=${PROFILE:-0}
# Extra environment for the services (both), e.g. GC settings to try: SERVICE_ENV="DOTNET_GCgen0size=0x1000000".
SERVICE_ENV=${SERVICE_ENV:-}
STATE=$PWD/bench/.state
RESULTS=$PWD/bench/results
PRIMARY_PORT=57432 STANDBY_PORT=57433 API_PORT=57100 MANAGEMENT_PORT=57101 SINK_PORT=57200
ASSETS_PORT=57110 ASSETS_MANAGEMENT_PORT=57111 S3_PORT=57300
BIN=Release

log() { printf '\033[1m%s\033[0m\n' "$*" >&2; }
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; pg_cluster_stop "$STATE/pg"; }
trap cleanup EXIT

deps_dotnet
deps_postgres
deps_node_tools
apt_ensure "command -v wrk:wrk" "command -v curl:curl"

log "Building Release"
quiet_build src/Catalog.Api -c $BIN -nologo
quiet_build src/Assets.Api -c $BIN -nologo
quiet_build bench/RawFloor -c $BIN -nologo
[ "$PROFILE" = 1 ] && dotnet tool restore >/dev/null

log "Fresh PostgreSQL writer + reader in bench/.state"
pg_cluster_stop "$STATE/pg"; rm -rf "$STATE"; mkdir -p "$STATE" "$RESULTS"
pg_cluster_start "$STATE/pg" $PRIMARY_PORT $STANDBY_PORT
PSQL="$(pg_bin)/psql -q -h 127.0.0.1 -U postgres"
SIGNING_KEY=$(head -c 32 /dev/urandom | base64)
mkdir -p "$STATE/secrets/app" "$STATE/secrets/migrator"
echo '{"Database":{"Username":"catalog_app","Password":"dev-only-catalog-app"}}' > "$STATE/secrets/app/database.json"
echo '{"Database":{"Username":"catalog_migrator","Password":"dev-only-catalog-migrator"}}' > "$STATE/secrets/migrator/database.json"
mkdir -p "$STATE/secrets/assets-app" "$STATE/secrets/assets-migrator"
echo '{"Database":{"Username":"assets_app","Password":"dev-only-assets-app"}}' > "$STATE/secrets/assets-app/database.json"
echo '{"Database":{"Username":"assets_migrator","Password":"dev-only-assets-migrator"}}' > "$STATE/secrets/assets-migrator/database.json"
CATALOG_DIR=src/Catalog.Api/bin/$BIN/net10.0
ASSETS_DIR=src/Assets.Api/bin/$BIN/net10.0
common_env=(
  "Database__Writer=Host=127.0.0.1;Port=$PRIMARY_PORT;Database=catalog"
  "Database__Reader=Host=127.0.0.1;Port=$STANDBY_PORT;Database=catalog"
  "Auth__SigningKey=$SIGNING_KEY" "Hosting__BindAddress=127.0.0.1" "Hosting__ApiPort=$API_PORT" "Hosting__ManagementPort=$MANAGEMENT_PORT"
  "Shutdown__DrainDelay=00:00:00" "Database__MaxPoolSize=100"
)
# Assets: same platform settings on its own database and ports, S3 in s3rver, downloads through a CDN URL (as
# production serves images), so an asset read is a query and JSON, like the raw floor's.
assets_env=(
  "Database__Writer=Host=127.0.0.1;Port=$PRIMARY_PORT;Database=assets"
  "Database__Reader=Host=127.0.0.1;Port=$STANDBY_PORT;Database=assets"
  "Auth__SigningKey=$SIGNING_KEY" "Hosting__BindAddress=127.0.0.1" "Hosting__ApiPort=$ASSETS_PORT" "Hosting__ManagementPort=$ASSETS_MANAGEMENT_PORT"
  "Shutdown__DrainDelay=00:00:00" "Database__MaxPoolSize=100" "CatalogClient__BaseUrl=http://127.0.0.1:$API_PORT"
  "Storage__Bucket=assets" "Storage__ServiceUrl=http://127.0.0.1:$S3_PORT" "Storage__Region=us-east-1" "Storage__CdnBaseUrl=https://media.example.test"
  "AWS_ACCESS_KEY_ID=S3RVER" "AWS_SECRET_ACCESS_KEY=S3RVER" "AWS_EC2_METADATA_DISABLED=true"
)
(cd "$CATALOG_DIR" && env "${common_env[@]}" Secrets__Directory="$STATE/secrets/migrator" dotnet Catalog.Api.dll migrate >/dev/null)
(cd "$ASSETS_DIR" && env "${assets_env[@]}" Secrets__Directory="$STATE/secrets/assets-migrator" dotnet Assets.Api.dll migrate >/dev/null)

log "Seeding $SEED_ROWS products"
$PSQL -p $PRIMARY_PORT -d catalog -c "INSERT INTO catalog.products (id, sku, name, description, brand, category, attributes, status, created_at, updated_at)
  SELECT gen_random_uuid(), 'SEED-' || n, 'Seed product ' || n, 'A product to read', 'Acme', 'cat-' || (n % 20),
         jsonb_build_object('lens', (n % 7)::text), 'active', now(), now() FROM generate_series(1, $SEED_ROWS) AS n"
$PSQL -p $PRIMARY_PORT -d catalog -At -c "SELECT id FROM catalog.products ORDER BY random() LIMIT 2000" > "$STATE/ids.txt"
$PSQL -p $PRIMARY_PORT -d assets -c "INSERT INTO assets.assets (id, product_id, object_key, file_name, content_type, size_bytes, status, created_at, updated_at)
  SELECT id, product, 'products/' || product || '/' || id, 'photo-' || n || '.jpg', 'image/jpeg', 1048576 + n, 'available', now(), now()
  FROM (SELECT gen_random_uuid() AS id, gen_random_uuid() AS product, n FROM generate_series(1, 2000) AS n) AS seed"
$PSQL -p $PRIMARY_PORT -d assets -At -c "SELECT id FROM assets.assets" > "$STATE/asset-ids.txt"
$PSQL -p $PRIMARY_PORT -d postgres -c "CREATE DATABASE pgbench"
"$(pg_bin)/pgbench" -q -i -s 10 -h 127.0.0.1 -p $PRIMARY_PORT -U postgres pgbench >/dev/null 2>&1
sleep 2   # let the reader replay the seed

# rss_sampler PID OUT — highest resident set size (MB) of PID while it runs.
rss_sampler() { local max=0 rss; echo 0 > "$2"; while kill -0 "$1" 2>/dev/null; do rss=$(awk '/VmRSS/{print int($2/1024)}' "/proc/$1/status" 2>/dev/null || echo 0); [ "${rss:-0}" -gt "$max" ] && { max=$rss; echo "$max" > "$2"; }; sleep 0.5; done; }

# telemetry_env TARGET — the telemetry settings of a service target (word-split on purpose: no value has spaces).
telemetry_env() {
  local traces="OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$SINK_PORT OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_TRACES_SAMPLER=$TRACES_SAMPLER OTEL_TRACES_SAMPLER_ARG=$TRACES_SAMPLER_ARG"
  case $1 in
    service-on) echo "$traces" ;;
    service-traces) echo "$traces Logging__RequestLogging=false" ;;
    service-logs) echo "OTEL_SDK_DISABLED=true" ;;
    service-off) echo "OTEL_SDK_DISABLED=true Logging__RequestLogging=false" ;;
    *) echo "unknown target $1" >&2; exit 2 ;;
  esac
}

# start TARGET — starts the target, records its start-up-to-ready time in ms.
start() {
  local target=$1 ready_url started
  started=$(date +%s%N)
  case $target in
    raw)
      (cd bench/RawFloor/bin/$BIN/net10.0 && exec env \
        "RAW_WRITER=Host=127.0.0.1;Port=$PRIMARY_PORT;Database=catalog;Username=catalog_app;Password=dev-only-catalog-app;Maximum Pool Size=100" \
        "RAW_READER=Host=127.0.0.1;Port=$STANDBY_PORT;Database=catalog;Username=catalog_app;Password=dev-only-catalog-app;Maximum Pool Size=100" \
        "RAW_ASSETS_READER=Host=127.0.0.1;Port=$STANDBY_PORT;Database=assets;Username=assets_app;Password=dev-only-assets-app;Maximum Pool Size=100" \
        "RAW_CDN_BASE_URL=https://media.example.test" \
        dotnet RawFloor.dll --urls "http://127.0.0.1:$API_PORT") >"$STATE/$target.log" 2>&1 &
      ready_url="http://127.0.0.1:$API_PORT/health" ;;
    service-*)
      (cd "$CATALOG_DIR" && exec env "${common_env[@]}" Secrets__Directory="$STATE/secrets/app" $(telemetry_env "$target") $SERVICE_ENV \
        dotnet Catalog.Api.dll) >"$STATE/$target.log" 2>&1 &
      ready_url="http://127.0.0.1:$MANAGEMENT_PORT/health/ready" ;;
  esac
  TARGET_PID=$!
  pids+=("$TARGET_PID")
  until curl -fs "$ready_url" >/dev/null 2>&1; do
    kill -0 "$TARGET_PID" 2>/dev/null || { cat "$STATE/$target.log" >&2; exit 1; }
    sleep 0.02
  done
  echo $(( ($(date +%s%N) - started) / 1000000 )) > "$STATE/$target.startup_ms.r$ROUND"
  ASSETS_PID=$TARGET_PID
  if [ "$target" != raw ]; then
    started=$(date +%s%N)
    (cd "$ASSETS_DIR" && exec env "${assets_env[@]}" Secrets__Directory="$STATE/secrets/assets-app" $(telemetry_env "$target") $SERVICE_ENV \
      dotnet Assets.Api.dll) >"$STATE/$target-assets.log" 2>&1 &
    ASSETS_PID=$!
    pids+=("$ASSETS_PID")
    until curl -fs "http://127.0.0.1:$ASSETS_MANAGEMENT_PORT/health/ready" >/dev/null 2>&1; do
      kill -0 "$ASSETS_PID" 2>/dev/null || { cat "$STATE/$target-assets.log" >&2; exit 1; }
      sleep 0.02
    done
    echo $(( ($(date +%s%N) - started) / 1000000 )) > "$STATE/$target-assets.startup_ms.r$ROUND"
  fi
}

# cpu_ticks PID — user + system CPU time of PID in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run_wrk TARGET SCENARIO [PORT PID] — warm-up, then the measured run; keeps wrk's output and the target's CPU time.
run_wrk() {
  local target=$1 scenario=$2 port=${3:-$API_PORT} pid=${4:-$TARGET_PID} before
  local env_vars=(IDS_FILE="$STATE/ids.txt" ASSET_IDS_FILE="$STATE/asset-ids.txt" TOKEN="$TOKEN" SKU_PREFIX="B$(echo "$target" | tr 'a-z-' 'A-Z0')$RANDOM")
  env "${env_vars[@]}" wrk -t$THREADS -c$CONNECTIONS -d${WARMUP}s -s "bench/scenarios/$scenario.lua" "http://127.0.0.1:$port" >/dev/null
  before=$(cpu_ticks "$pid")
  local profiler="" trace="$RESULTS/profile-$target-$scenario.nettrace"
  if [ "$PROFILE" = 1 ] && [ "$ROUND" = 1 ] && [ "$scenario" = get-by-id ]; then
    dotnet tool run dotnet-trace collect -p "$pid" --profile dotnet-common,dotnet-sampled-thread-time \
      --duration "00:00:00:$(printf %02d "$DURATION")" -o "$trace" >"$STATE/$target.profile.log" 2>&1 &
    profiler=$!
  fi
  env "${env_vars[@]}" SKU_PREFIX="${env_vars[3]#SKU_PREFIX=}M" wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency \
    -s "bench/scenarios/$scenario.lua" "http://127.0.0.1:$port" > "$STATE/$target.$scenario.r$ROUND.wrk"
  echo $(( $(cpu_ticks "$pid") - before )) > "$STATE/$target.$scenario.r$ROUND.ticks"
  if [ -n "$profiler" ]; then
    wait "$profiler" || { cat "$STATE/$target.profile.log" >&2; return 1; }
    { echo "# $target, $scenario: top methods by exclusive then inclusive thread time"; dotnet tool run dotnet-trace report "$trace" topN -n 25
      dotnet tool run dotnet-trace report "$trace" topN -n 40 --inclusive; } > "${trace%.nettrace}.top.txt" 2>&1
  fi
}

reads_by() { curl -s "http://127.0.0.1:$MANAGEMENT_PORT/metrics" | awk -v role="$1" '$1 ~ "^db_reads_total\\{role=\""role"\"\\}" {print $2}'; }

# Assets' bucket store (its health check and presigned uploads; reads go through the CDN URL).
mkdir -p "$STATE/s3"
node .tools/node_modules/s3rver/bin/s3rver.js --directory "$STATE/s3" --address 127.0.0.1 --port $S3_PORT --silent \
  --no-vhost-buckets --configure-bucket assets >"$STATE/s3.log" 2>&1 &
pids+=("$!")

# The trace collector stand-in for service-on.
(cd bench/RawFloor/bin/$BIN/net10.0 && exec dotnet RawFloor.dll --otlp-sink --urls "http://127.0.0.1:$SINK_PORT") >"$STATE/sink.log" 2>&1 &
pids+=("$!")

TOKEN=$(cd "$CATALOG_DIR" && env "${common_env[@]}" Secrets__Directory="$STATE/secrets/app" dotnet Catalog.Api.dll dev-token)
for ROUND in $(seq "$ROUNDS"); do
for target in $TARGETS; do
  log "Round $ROUND/$ROUNDS: $target"
  start $target
  for scenario in get-by-id list create get-asset; do
    port=$API_PORT; [ "$target" != raw ] && [ $scenario = get-asset ] && port=$ASSETS_PORT
    IDS_FILE="$STATE/ids.txt" ASSET_IDS_FILE="$STATE/asset-ids.txt" TOKEN="$TOKEN" SKU_PREFIX="W$RANDOM$ROUND" \
      wrk -t$THREADS -c$CONNECTIONS -d$((TARGET_WARMUP / 4))s -s "bench/scenarios/$scenario.lua" "http://127.0.0.1:$port" >/dev/null
  done
  rss_sampler "$TARGET_PID" "$STATE/$target.rss.r$ROUND" &
  [ "$target" != raw ] && rss_sampler "$ASSETS_PID" "$STATE/$target-assets.rss.r$ROUND" &
  if [ "$target" != raw ]; then reader_before=$(reads_by reader); writer_before=$(reads_by writer); fi
  for scenario in get-by-id list; do run_wrk $target $scenario; done
  if [ "$target" != raw ]; then
    echo "$(reads_by reader) $reader_before $(reads_by writer) $writer_before" | awk '{r=$1-$2; w=$3-$4; printf "%.3f\n", (r+w) ? 100*r/(r+w) : 0}' > "$STATE/$target.reader_share.r$ROUND"
  fi
  run_wrk $target create
  if [ "$target" = raw ]; then run_wrk $target get-asset; else run_wrk $target get-asset $ASSETS_PORT "$ASSETS_PID"; fi
  kill "$TARGET_PID" "$ASSETS_PID" 2>/dev/null; wait "$TARGET_PID" "$ASSETS_PID" 2>/dev/null || true
done
done

log "pgbench -S, $CONNECTIONS connections, against the reader"
"$(pg_bin)/pgbench" -n -S -c "$CONNECTIONS" -j "$THREADS" -T "$DURATION" -h 127.0.0.1 -p $STANDBY_PORT -U postgres pgbench > "$STATE/pgbench.out" 2>&1

# wrk numbers of one round: requests/s, p50 and p99 in ms, non-2xx responses.
rps() { awk '/^Requests\/sec/{print $2}' "$1"; }
to_ms() { awk -v v="$1" 'BEGIN{ if (v ~ /us$/) {sub(/us$/,"",v); print v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v+0} else if (v ~ /s$/) {sub(/s$/,"",v); print v*1000} else print v }'; }
pct() { to_ms "$(awk -v p="$2" '$1==p{print $2}' "$1")"; }
errors() { awk '/Non-2xx or 3xx responses/{print $5; f=1} END{if(!f) print 0}' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ printf "%.2f", (b>0) ? a/b : 0 }'; }
# CPU µs the target spent per request in one round: depends less on other load on the machine than requests/s.
cpu_us_round() { awk -v t="$(cat "$STATE/$1.$2.r$3.ticks")" -v r="$(awk '/requests in/{print $1}' "$STATE/$1.$2.r$3.wrk")" -v hz="$(getconf CLK_TCK)" 'BEGIN{ printf "%.0f\n", (r>0) ? t*1000000/hz/r : 0 }'; }
median() { sort -g | awk '{v[NR]=$1} END{ if (NR==0) print "?"; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2 }'; }
# Medians over the rounds of TARGET SCENARIO.
m_rps() { for r in $(seq "$ROUNDS"); do rps "$STATE/$1.$2.r$r.wrk"; done | median; }
m_pct() { for r in $(seq "$ROUNDS"); do pct "$STATE/$1.$2.r$r.wrk" "$3"; done | median; }
m_cpu() { for r in $(seq "$ROUNDS"); do cpu_us_round "$1" "$2" "$r"; done | median; }
sum_errors() { for r in $(seq "$ROUNDS"); do errors "$STATE/$1.$2.r$r.wrk"; done | awk '{s+=$1} END{print s+0}'; }
m_file() { for r in $(seq "$ROUNDS"); do cat "$STATE/$1.r$r" 2>/dev/null; done | median; }
max_file() { for r in $(seq "$ROUNDS"); do cat "$STATE/$1.r$r" 2>/dev/null; done | sort -g | tail -n 1; }
pgbench_tps=$(awk '/^tps/{print int($3); exit}' "$STATE/pgbench.out")
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')

{
  echo "# Benchmark report"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ) · $(nproc) cores ($cpu) · $CONNECTIONS connections, $THREADS wrk threads, ${DURATION} s per scenario after ${WARMUP} s warm-up (and ${TARGET_WARMUP} s per fresh target) · $SEED_ROWS seeded products · medians of $ROUNDS interleaved rounds · service-on traces: $TRACES_SAMPLER $TRACES_SAMPLER_ARG"
  echo
  echo "| scenario | target | req/s | p50 ms | p99 ms | CPU µs/request | non-2xx |"
  echo "|---|---|---:|---:|---:|---:|---:|"
  for scenario in get-by-id list create get-asset; do
    for target in $TARGETS; do
      echo "| $scenario | $target | $(m_rps $target $scenario) | $(m_pct $target $scenario 50%) | $(m_pct $target $scenario 99%) | $(m_cpu $target $scenario) | $(sum_errors $target $scenario) |"
    done
  done
  echo "| select-only | pgbench -S | $pgbench_tps | | | | |"
  echo
  echo "| ratio of req/s | get-by-id | list | create | get-asset | target |"
  echo "|---|---:|---:|---:|---:|---|"
  row() { local line="| $1 |" scenario; for scenario in get-by-id list create get-asset; do line="$line $(ratio "$(m_rps $2 $scenario)" "$(m_rps $3 $scenario)") |"; done; echo "$line $4 |"; }
  has() { [[ " $TARGETS " == *" $1 "* ]]; }
  has service-on && has raw && row "service (telemetry on) / raw" service-on raw "≥ 0.85 get, ≥ 0.80 list and create"
  has service-off && has raw && row "service (telemetry off) / raw" service-off raw ""
  has service-on && has service-off && row "telemetry on / off" service-on service-off "≥ 0.92"
  has service-traces && has service-off && row "traces only / off" service-traces service-off ""
  has service-logs && has service-off && row "request logs only / off" service-logs service-off ""
  has service-on && echo "| service get-by-id / pgbench -S | $(ratio "$(m_rps service-on get-by-id)" "$pgbench_tps") | | | | (the database's own limit) |"
  has service-on && has raw && echo "| CPU per request, service (telemetry on) / raw | $(ratio "$(m_cpu service-on get-by-id)" "$(m_cpu raw get-by-id)") | $(ratio "$(m_cpu service-on list)" "$(m_cpu raw list)") | $(ratio "$(m_cpu service-on create)" "$(m_cpu raw create)") | $(ratio "$(m_cpu service-on get-asset)" "$(m_cpu raw get-asset)") | lower is better |"
  echo
  echo "| target | start-up to ready ms (≤ 1500) | peak RSS MB under load (≤ 200) | reads served by the reader % (≥ 99) |"
  echo "|---|---:|---:|---:|"
  for target in $TARGETS; do
    echo "| $target | $(m_file $target.startup_ms) | $(max_file $target.rss) | $( [ $target = raw ] && echo n/a || m_file $target.reader_share) |"
  done
  for target in ${TARGETS/raw/}; do
    echo "| $target (assets) | $(m_file $target-assets.startup_ms) | $(max_file $target-assets.rss) | |"
  done
} > "$RESULTS/report.md"

{
  echo "{"
  echo "  \"connections\": $CONNECTIONS, \"durationSeconds\": $DURATION, \"rounds\": $ROUNDS, \"cores\": $(nproc), \"pgbenchSelectOnlyTps\": $pgbench_tps,"
  echo "  \"targets\": {"
  first_target=1
  for target in $TARGETS; do
    [ $first_target -eq 1 ] || echo ","; first_target=0
    printf '    "%s": { "startupToReadyMs": %s, "peakRssMb": %s, "readerSharePercent": %s, "assetsStartupToReadyMs": %s, "assetsPeakRssMb": %s, "scenarios": {' "$target" \
      "$(m_file $target.startup_ms)" "$(max_file $target.rss)" "$( [ $target = raw ] && echo null || m_file $target.reader_share)" \
      "$( [ $target = raw ] && echo null || m_file $target-assets.startup_ms)" "$( [ $target = raw ] && echo null || max_file $target-assets.rss)"
    first=1
    for scenario in get-by-id list create get-asset; do
      [ $first -eq 1 ] || printf ','; first=0
      printf ' "%s": { "requestsPerSecond": %s, "p50Ms": %s, "p99Ms": %s, "cpuMicrosecondsPerRequest": %s, "non2xx": %s }' "$scenario" \
        "$(m_rps $target $scenario)" "$(m_pct $target $scenario 50%)" "$(m_pct $target $scenario 99%)" "$(m_cpu $target $scenario)" "$(sum_errors $target $scenario)"
    done
    printf ' } }'
  done
  echo; echo "  }"; echo "}"
} > "$RESULTS/report.json"

cat "$RESULTS/report.md"
