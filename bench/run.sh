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
# The services run as the image runs them: published by the Dockerfile's recipe (dotnet publish -c Release for this
# machine's architecture, so ReadyToRun code and the runtimeconfig settings of the project files apply) and started
# through their apphost. Targets, all on the same PostgreSQL writer + streaming reader:
#   raw            bench/RawFloor: the same queries with plain Npgsql, no EF Core, telemetry, auth or validation
#   service-on     Catalog (products) and Assets (asset metadata) with everything on as the chart deploys it:
#                  traces exported over OTLP (sampler parentbased_traceidratio 0.1, the chart's default), request
#                  logs, metrics
#   service-off    the same with tracing (OTEL_SDK_DISABLED) and request logs off
#   service-traces tracing on (as service-on), request logs off
#   service-logs   request logs on, tracing off
#   pgbench        pgbench -S (select-only) against the reader at the same connection count: the database's own limit
#
# A/B of a change, in one run of interleaved rounds: a service target takes a git commit to build instead of the work
# tree (@REF) and/or extra environment from the variable VARIANT_<NAME> (:NAME), e.g.
#   TARGETS="raw service-off service-off@HEAD~3" bench/run.sh             # this work tree against three commits ago
#   VARIANT_wks="DOTNET_gcServer=0" TARGETS="service-on service-on:wks" bench/run.sh
# PAIRS="A/B C/D" adds the ratios of further pairs of targets to the report (e.g. two commits of one change).
# An unknown target, a ref that is no commit or an unset variant stops the run before anything starts.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

CONNECTIONS=${CONNECTIONS:-32}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
# Each freshly started target first runs every scenario for a while: tiered compilation has to reach optimized code
# for the whole request path before anything is measured, and on a saturated 2-core machine that takes seconds
# (measured: the service's GET by id ran at 8.6k req/s after 3 s of warm-up and 11.3k after 12 s; the raw floor,
# with far less code, is warm after 3 s). Split evenly over the scenarios. Then the scenarios keep running, 2 s each,
# until the runtime's JIT time (System.Runtime's dotnet.jit.compilation.time, summed over the target's processes)
# grew by under JIT_SETTLED_PERCENT of the pass's wall time, for at most TARGET_WARMUP_MAX seconds: a profile taken 33 s after
# start found the JIT on 17 % of the service's CPU samples, still re-compiling hot methods at tier 1 in the measured
# window (the raw floor: 0.3 %); the service had spent 14.5 s in the JIT by then. The report gives each target's warm-up and whether it settled.
TARGET_WARMUP=${TARGET_WARMUP:-20}
TARGET_WARMUP_MAX=${TARGET_WARMUP_MAX:-120}
JIT_SETTLED_PERCENT=${JIT_SETTLED_PERCENT:-2}
# The chart's defaults (deploy/helm/service/values.yaml telemetry.sampler/samplerArg); TRACES_SAMPLER=always_on measures
# tracing every request.
TRACES_SAMPLER=${TRACES_SAMPLER:-parentbased_traceidratio}
TRACES_SAMPLER_ARG=${TRACES_SAMPLER_ARG:-0.1}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
TARGETS=${TARGETS:-raw service-on service-off pgbench}
SCENARIOS=${SCENARIOS:-get-by-id by-sku list create get-asset}
SEED_ROWS=${SEED_ROWS:-10000}
# PROFILE=1: while round 1 measures each of $PROFILE_SCENARIOS, dotnet-trace samples each .NET target's threads
# (dotnet-sampled-thread-time) into bench/results/profile-<target>-<scenario>.nettrace (PerfView, speedscope) and writes
# its top methods to ….top.txt. PROFILE=perf: perf samples on-CPU time instead (JIT-compiled frames named through the
# runtime's perf map) into ….perf.data and ….perf.txt. A profiler costs throughput: take the table from a run without.
PROFILE=${PROFILE:-0}
PROFILE_SCENARIOS=${PROFILE_SCENARIOS:-get-by-id}
# Extra environment for every service target (both services), e.g. SERVICE_ENV="DOTNET_GCgen0size=0x1000000".
SERVICE_ENV=${SERVICE_ENV:-}
PAIRS=${PAIRS:-}
STATE=$ROOT/bench/.state
RESULTS=$ROOT/bench/results
# Builds of other commits (@REF), by commit id: a commit never changes, so neither does its build.
BUILD_CACHE=$ROOT/bench/.builds
# Below Linux's ephemeral range (32768–60999 by default): a port in it can be taken as the source port of an outgoing
# connection (a client of the previous target, still in its pool), and a target's listener then fails to bind.
PRIMARY_PORT=27432 STANDBY_PORT=27433 API_PORT=27100 MANAGEMENT_PORT=27101 SINK_PORT=27200
ASSETS_PORT=27110 ASSETS_MANAGEMENT_PORT=27111 S3_PORT=27300
KINDS="raw pgbench service-on service-off service-traces service-logs"
ALL_SCENARIOS="get-by-id by-sku list create get-asset"

log() { printf '\033[1m%s\033[0m\n' "$*" >&2; }
die() { echo "bench/run.sh: $*" >&2; exit 2; }

# --- What to run, checked before anything starts ---------------------------------------------------------------
for name in CONNECTIONS DURATION WARMUP TARGET_WARMUP TARGET_WARMUP_MAX JIT_SETTLED_PERCENT THREADS ROUNDS SEED_ROWS; do
  [[ ${!name} =~ ^[0-9]+$ ]] && [ "${!name}" -gt 0 ] || die "$name must be a positive whole number (got '${!name}')"
done
for scenario in $SCENARIOS; do
  [[ " $ALL_SCENARIOS " == *" $scenario "* ]] || die "unknown scenario '$scenario' in SCENARIOS; known: $ALL_SCENARIOS"
done
for scenario in $PROFILE_SCENARIOS; do
  [[ " $SCENARIOS " == *" $scenario "* ]] || die "PROFILE_SCENARIOS names '$scenario', which is not among SCENARIOS ($SCENARIOS)"
done
case $PROFILE in 0|1|perf) ;; *) die "PROFILE is 0, 1 (dotnet-trace) or perf (got '$PROFILE')" ;; esac
[ -n "$TARGETS" ] || die "TARGETS is empty; known targets: $KINDS"
for pair in $PAIRS; do
  [[ $pair == */* ]] && [[ " $TARGETS " == *" ${pair%%/*} "* ]] && [[ " $TARGETS " == *" ${pair#*/} "* ]] ||
    die "PAIRS names '$pair': each pair is A/B of two targets in TARGETS"
done

declare -A KIND REF VARIANT KEY
target_list=()
for target in $TARGETS; do
  [[ $target =~ ^([a-z-]+)(@([^:]+))?(:([A-Za-z0-9_]+))?$ ]] ||
    die "cannot read target '$target' in TARGETS: KIND[@REF][:VARIANT], KIND one of: $KINDS"
  kind=${BASH_REMATCH[1]} ref=${BASH_REMATCH[3]} variant=${BASH_REMATCH[5]}
  [[ " $KINDS " == *" $kind "* ]] || die "unknown target '$kind' in TARGETS; known: $KINDS (service targets take @REF and :VARIANT)"
  [[ " ${target_list[*]:-} " == *" $target "* ]] && die "target '$target' is named twice in TARGETS"
  if [ -n "$ref$variant" ] && [[ $kind != service-* ]]; then die "only service targets take @REF or :VARIANT (got '$target')"; fi
  if [ -n "$ref" ]; then
    REF[$target]=$(git rev-parse --verify --quiet "$ref^{commit}") || die "'$ref' in target '$target' is not a commit of this repository"
  else
    REF[$target]=""
  fi
  if [ -n "$variant" ]; then
    var="VARIANT_$variant"
    [ -n "${!var:-}" ] || die "target '$target' names variant '$variant', but $var is not set (e.g. $var=\"DOTNET_gcServer=0\")"
  fi
  KIND[$target]=$kind VARIANT[$target]=$variant KEY[$target]=$(printf '%s' "$target" | tr -c 'A-Za-z0-9_.-' '_')
  target_list+=("$target")
done
has_kind() { local t; for t in "${target_list[@]}"; do [[ ${KIND[$t]} == "$1" ]] && return 0; done; return 1; }

. tools/deps.sh
. tools/postgres.sh
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; pg_cluster_stop "$STATE/pg"; }
trap cleanup EXIT

deps_dotnet
deps_postgres
deps_node_tools
apt_ensure "command -v wrk:wrk" "command -v curl:curl"
[ "$PROFILE" = perf ] && apt_ensure "command -v perf:linux-perf"

# --- Builds -------------------------------------------------------------------------------------------------------
# The Dockerfile's publish, for this machine's architecture (dpkg's names are Docker's TARGETARCH names).
ARCH=$(dpkg --print-architecture)
publish() { # publish TREE PROJECT_PATH OUT
  local out; out=$(cd "$1" && dotnet publish "$2" -c Release -a "$ARCH" -o "$3" -nologo -clp:ErrorsOnly 2>&1) ||
    { echo "$out" >&2; echo "dotnet publish $2 (in $1) failed" >&2; return 1; }
}
log "Fresh state in bench/.state"
pg_cluster_stop "$STATE/pg"; rm -rf "$STATE"; mkdir -p "$STATE/builds" "$RESULTS" "$BUILD_CACHE"
log "Publishing the work tree (as the Dockerfile does)"
publish "$ROOT" src/Catalog.Api/Catalog.Api.csproj "$STATE/builds/work/catalog"
publish "$ROOT" src/Assets.Api/Assets.Api.csproj "$STATE/builds/work/assets"
publish "$ROOT" bench/RawFloor/RawFloor.csproj "$STATE/builds/raw"
declare -A BUILD
for target in "${target_list[@]}"; do
  sha=${REF[$target]}
  if [ -z "$sha" ]; then BUILD[$target]=$STATE/builds/work; continue; fi
  BUILD[$target]=$BUILD_CACHE/$sha
  [ -f "$BUILD_CACHE/$sha/.complete" ] && continue
  log "Publishing commit ${sha:0:12} for $target"
  rm -rf "$BUILD_CACHE/$sha" "$STATE/src-$sha"; mkdir -p "$STATE/src-$sha"
  git archive "$sha" | tar -x -C "$STATE/src-$sha"
  publish "$STATE/src-$sha" src/Catalog.Api/Catalog.Api.csproj "$BUILD_CACHE/$sha/catalog"
  publish "$STATE/src-$sha" src/Assets.Api/Assets.Api.csproj "$BUILD_CACHE/$sha/assets"
  touch "$BUILD_CACHE/$sha/.complete"
  rm -rf "$STATE/src-$sha"
done
[ "$PROFILE" = 1 ] && dotnet tool restore >/dev/null

# --- Databases ----------------------------------------------------------------------------------------------------
log "PostgreSQL writer + reader"
pg_cluster_start "$STATE/pg" $PRIMARY_PORT $STANDBY_PORT
PSQL="$(pg_bin)/psql -q -h 127.0.0.1 -U postgres"
SIGNING_KEY=$(head -c 32 /dev/urandom | base64)
mkdir -p "$STATE/secrets/app" "$STATE/secrets/migrator"
echo '{"Database":{"Username":"catalog_app","Password":"dev-only-catalog-app"}}' > "$STATE/secrets/app/database.json"
echo '{"Database":{"Username":"catalog_migrator","Password":"dev-only-catalog-migrator"}}' > "$STATE/secrets/migrator/database.json"
mkdir -p "$STATE/secrets/assets-app" "$STATE/secrets/assets-migrator"
echo '{"Database":{"Username":"assets_app","Password":"dev-only-assets-app"}}' > "$STATE/secrets/assets-app/database.json"
echo '{"Database":{"Username":"assets_migrator","Password":"dev-only-assets-migrator"}}' > "$STATE/secrets/assets-migrator/database.json"
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
# The work tree's migrations: a commit under test runs on the current schema, as the previous release does during a
# blue-green rollout (migrations are expand/contract).
(cd "$STATE/builds/work/catalog" && env "${common_env[@]}" Secrets__Directory="$STATE/secrets/migrator" ./Catalog.Api migrate >/dev/null)
(cd "$STATE/builds/work/assets" && env "${assets_env[@]}" Secrets__Directory="$STATE/secrets/assets-migrator" ./Assets.Api migrate >/dev/null)

log "Seeding $SEED_ROWS products"
$PSQL -p $PRIMARY_PORT -d catalog -c "INSERT INTO catalog.products (id, sku, name, description, brand, category, attributes, status, created_at, updated_at)
  SELECT gen_random_uuid(), 'SEED-' || n, 'Seed product ' || n, 'A product to read', 'Acme', 'cat-' || (n % 20),
         jsonb_build_object('lens', (n % 7)::text), 'active', now(), now() FROM generate_series(1, $SEED_ROWS) AS n"
$PSQL -p $PRIMARY_PORT -d catalog -At -c "SELECT id FROM catalog.products ORDER BY random() LIMIT 2000" > "$STATE/ids.txt"
$PSQL -p $PRIMARY_PORT -d catalog -At -c "SELECT sku FROM catalog.products ORDER BY random() LIMIT 2000" > "$STATE/skus.txt"
$PSQL -p $PRIMARY_PORT -d assets -c "INSERT INTO assets.assets (id, product_id, object_key, file_name, content_type, size_bytes, status, created_at, updated_at)
  SELECT id, product, 'products/' || product || '/' || id, 'photo-' || n || '.jpg', 'image/jpeg', 1048576 + n, 'available', now(), now()
  FROM (SELECT gen_random_uuid() AS id, gen_random_uuid() AS product, n FROM generate_series(1, 2000) AS n) AS seed"
$PSQL -p $PRIMARY_PORT -d assets -At -c "SELECT id FROM assets.assets" > "$STATE/asset-ids.txt"
if has_kind pgbench; then
  $PSQL -p $PRIMARY_PORT -d postgres -c "CREATE DATABASE pgbench"
  "$(pg_bin)/pgbench" -q -i -s 10 -h 127.0.0.1 -p $PRIMARY_PORT -U postgres pgbench >/dev/null 2>&1
fi
sleep 2   # let the reader replay the seed

# --- Measuring ----------------------------------------------------------------------------------------------------
# rss_sampler PID OUT — highest resident set size (MB) of PID while it runs.
rss_sampler() { local max=0 rss; echo 0 > "$2"; while kill -0 "$1" 2>/dev/null; do rss=$(awk '/VmRSS/{print int($2/1024)}' "/proc/$1/status" 2>/dev/null || echo 0); [ "${rss:-0}" -gt "$max" ] && { max=$rss; echo "$max" > "$2"; }; sleep 0.5; done; }

# telemetry_env KIND — the telemetry settings of a service target (word-split on purpose: no value has spaces).
telemetry_env() {
  local traces="OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$SINK_PORT OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_TRACES_SAMPLER=$TRACES_SAMPLER OTEL_TRACES_SAMPLER_ARG=$TRACES_SAMPLER_ARG"
  case $1 in
    service-on) echo "$traces" ;;
    service-traces) echo "$traces Logging__RequestLogging=false" ;;
    service-logs) echo "OTEL_SDK_DISABLED=true" ;;
    service-off) echo "OTEL_SDK_DISABLED=true Logging__RequestLogging=false" ;;
  esac
}

# extra_env TARGET — SERVICE_ENV, the variant's environment, and the perf map when perf profiles.
extra_env() {
  local variant=${VARIANT[$1]} var
  echo "$SERVICE_ENV"
  if [ -n "$variant" ]; then var="VARIANT_$variant"; echo "${!var}"; fi
  # JIT-compiled code is double-mapped (W^X) from a memfd, where perf does not look for the perf map: off while profiling.
  [ "$PROFILE" = perf ] && echo "DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0"
  return 0
}

# wait_ready PID URL LOG — polls URL until it answers 2xx; fails with the log if the process exits first.
wait_ready() {
  until curl -fs "$2" >/dev/null 2>&1; do
    kill -0 "$1" 2>/dev/null || { cat "$3" >&2; echo "bench/run.sh: the target exited before it was ready (log above)" >&2; exit 1; }
    sleep 0.02
  done
}

# start TARGET — starts the target, records its start-up-to-ready time in ms (from exec to the first ready answer).
start() {
  local target=$1 key=${KEY[$1]} kind=${KIND[$1]} build=${BUILD[$1]} started
  started=$(date +%s%N)
  if [ "$kind" = raw ]; then
    (cd "$STATE/builds/raw" && exec env \
      "RAW_WRITER=Host=127.0.0.1;Port=$PRIMARY_PORT;Database=catalog;Username=catalog_app;Password=dev-only-catalog-app;Maximum Pool Size=100" \
      "RAW_READER=Host=127.0.0.1;Port=$STANDBY_PORT;Database=catalog;Username=catalog_app;Password=dev-only-catalog-app;Maximum Pool Size=100" \
      "RAW_ASSETS_READER=Host=127.0.0.1;Port=$STANDBY_PORT;Database=assets;Username=assets_app;Password=dev-only-assets-app;Maximum Pool Size=100" \
      "RAW_CDN_BASE_URL=https://media.example.test" $(extra_env "$target") \
      ./RawFloor --urls "http://127.0.0.1:$API_PORT") >"$STATE/$key.log" 2>&1 &
    TARGET_PID=$!; pids+=("$TARGET_PID")
    wait_ready "$TARGET_PID" "http://127.0.0.1:$API_PORT/health" "$STATE/$key.log"
    echo $(( ($(date +%s%N) - started) / 1000000 )) > "$STATE/$key.startup_ms.r$ROUND"
    ASSETS_PID=$TARGET_PID
    return
  fi
  (cd "$build/catalog" && exec env "${common_env[@]}" Secrets__Directory="$STATE/secrets/app" $(telemetry_env "$kind") $(extra_env "$target") \
    ./Catalog.Api) >"$STATE/$key.log" 2>&1 &
  TARGET_PID=$!; pids+=("$TARGET_PID")
  wait_ready "$TARGET_PID" "http://127.0.0.1:$MANAGEMENT_PORT/health/ready" "$STATE/$key.log"
  echo $(( ($(date +%s%N) - started) / 1000000 )) > "$STATE/$key.startup_ms.r$ROUND"
  started=$(date +%s%N)
  (cd "$build/assets" && exec env "${assets_env[@]}" Secrets__Directory="$STATE/secrets/assets-app" $(telemetry_env "$kind") $(extra_env "$target") \
    ./Assets.Api) >"$STATE/$key-assets.log" 2>&1 &
  ASSETS_PID=$!; pids+=("$ASSETS_PID")
  wait_ready "$ASSETS_PID" "http://127.0.0.1:$ASSETS_MANAGEMENT_PORT/health/ready" "$STATE/$key-assets.log"
  echo $(( ($(date +%s%N) - started) / 1000000 )) > "$STATE/$key-assets.startup_ms.r$ROUND"
}

# cpu_ticks PID — user + system CPU time of PID in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# jit_ms TARGET — milliseconds the runtime of each of the target's processes has spent in the JIT since it started
# (System.Runtime's dotnet.jit.compilation.time on /metrics; the raw floor serves the same line), summed.
jit_ms() {
  local urls=("http://127.0.0.1:$API_PORT/metrics")
  [ "${KIND[$1]}" != raw ] && urls=("http://127.0.0.1:$MANAGEMENT_PORT/metrics" "http://127.0.0.1:$ASSETS_MANAGEMENT_PORT/metrics")
  curl -fs "${urls[@]}" | awk '$1 == "system_runtime_dotnet_jit_compilation_time" {s += $2; n++} END {if (!n) exit 1; printf "%d\n", s * 1000}' ||
    die "no system_runtime_dotnet_jit_compilation_time on ${urls[*]}"
}

# warm_up TARGET — every scenario for TARGET_WARMUP s in all, then passes of 2 s per scenario until tiered compilation
# has settled (see JIT_SETTLED_PERCENT) or TARGET_WARMUP_MAX s have passed; records the seconds and the verdict.
warm_up() {
  local target=$1 key=${KEY[$1]} per_scenario scenario began jit_before pass_began used budget settled=no
  per_scenario=$(( TARGET_WARMUP / $(echo $SCENARIOS | wc -w) )); [ "$per_scenario" -gt 0 ] || per_scenario=1
  began=$(date +%s)
  while :; do
    jit_before=$(jit_ms "$target"); pass_began=$(date +%s%N)
    for scenario in $SCENARIOS; do
      env $(wrk_env) SKU_PREFIX="T$RANDOM$ROUND" wrk -t$THREADS -c$CONNECTIONS -d${per_scenario}s -s "bench/scenarios/$scenario.lua" \
        "http://127.0.0.1:$(port_of "$target" "$scenario")" >/dev/null
    done
    # JIT time against the pass's wall time: under JIT_SETTLED_PERCENT % of one core.
    used=$(( $(jit_ms "$target") - jit_before ))
    budget=$(( ($(date +%s%N) - pass_began) / 1000000 * JIT_SETTLED_PERCENT / 100 ))
    if [ "$used" -le "$budget" ]; then settled=yes; break; fi
    [ $(( $(date +%s) - began )) -lt "$TARGET_WARMUP_MAX" ] || break
    per_scenario=2
  done
  echo "$(( $(date +%s) - began )) $settled" > "$STATE/$key.warmup.r$ROUND"
}

# wrk_env TARGET — what the scenario scripts read.
wrk_env() { echo "IDS_FILE=$STATE/ids.txt SKUS_FILE=$STATE/skus.txt ASSET_IDS_FILE=$STATE/asset-ids.txt TOKEN=$TOKEN"; }

# port_of TARGET SCENARIO / pid_of TARGET SCENARIO — where a scenario is served (Assets serves get-asset).
port_of() { if [ "${KIND[$1]}" != raw ] && [ "$2" = get-asset ]; then echo $ASSETS_PORT; else echo $API_PORT; fi; }
pid_of() { if [ "$2" = get-asset ]; then echo "$ASSETS_PID"; else echo "$TARGET_PID"; fi; }

# profile_start TARGET SCENARIO PID — starts the profiler for this measurement if PROFILE asks for it; sets PROFILER.
profile_start() {
  local out="$RESULTS/profile-${KEY[$1]}-$2"
  PROFILER=""
  [ "$PROFILE" != 0 ] && [ "$ROUND" = 1 ] && [[ " $PROFILE_SCENARIOS " == *" $2 "* ]] || return 0
  if [ "$PROFILE" = 1 ]; then
    dotnet tool run dotnet-trace collect -p "$3" --profile dotnet-common,dotnet-sampled-thread-time \
      --duration "00:00:00:$(printf %02d "$DURATION")" -o "$out.nettrace" >"$STATE/${KEY[$1]}.profile.log" 2>&1 &
  else
    perf record -e cpu-clock -F 997 -g -p "$3" -o "$out.perf.data" -- sleep "$DURATION" >"$STATE/${KEY[$1]}.profile.log" 2>&1 &
  fi
  PROFILER=$!
}

profile_finish() { # profile_finish TARGET SCENARIO
  [ -n "$PROFILER" ] || return 0
  local out="$RESULTS/profile-${KEY[$1]}-$2"
  wait "$PROFILER" || { cat "$STATE/${KEY[$1]}.profile.log" >&2; return 1; }
  if [ "$PROFILE" = 1 ]; then
    { echo "# $1, $2: top methods by exclusive then inclusive thread time"; dotnet tool run dotnet-trace report "$out.nettrace" topN -n 25
      dotnet tool run dotnet-trace report "$out.nettrace" topN -n 40 --inclusive; } > "$out.top.txt" 2>&1
  else
    { echo "# $1, $2: on-CPU samples, by symbol (self), then by caller chain (inclusive)"
      perf report -i "$out.perf.data" --stdio --no-children --sort dso,symbol --percent-limit 0.3 -g none 2>/dev/null
      perf report -i "$out.perf.data" --stdio --children --sort symbol --percent-limit 2 -g none 2>/dev/null; } > "$out.perf.txt"
  fi
}

# run_wrk TARGET SCENARIO — warm-up, then the measured run; keeps wrk's output and the serving process's CPU time.
run_wrk() {
  local target=$1 scenario=$2 key=${KEY[$1]} port pid before
  port=$(port_of "$target" "$scenario") pid=$(pid_of "$target" "$scenario")
  env $(wrk_env) SKU_PREFIX="W$RANDOM$ROUND" wrk -t$THREADS -c$CONNECTIONS -d${WARMUP}s -s "bench/scenarios/$scenario.lua" "http://127.0.0.1:$port" >/dev/null
  before=$(cpu_ticks "$pid")
  profile_start "$target" "$scenario" "$pid"
  env $(wrk_env) SKU_PREFIX="M$RANDOM$ROUND" wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency \
    -s "bench/scenarios/$scenario.lua" "http://127.0.0.1:$port" > "$STATE/$key.$scenario.r$ROUND.wrk"
  echo $(( $(cpu_ticks "$pid") - before )) > "$STATE/$key.$scenario.r$ROUND.ticks"
  profile_finish "$target" "$scenario"
}

reads_by() { curl -s "http://127.0.0.1:$MANAGEMENT_PORT/metrics" | awk -v role="$1" '$1 ~ "^db_reads_total\\{role=\""role"\"\\}" {print $2}'; }

# Assets' bucket store (its health check and presigned uploads; reads go through the CDN URL).
mkdir -p "$STATE/s3"
node .tools/node_modules/s3rver/bin/s3rver.js --directory "$STATE/s3" --address 127.0.0.1 --port $S3_PORT --silent \
  --no-vhost-buckets --configure-bucket assets >"$STATE/s3.log" 2>&1 &
pids+=("$!")

# The trace collector stand-in for the targets that export traces.
(cd "$STATE/builds/raw" && exec ./RawFloor --otlp-sink --urls "http://127.0.0.1:$SINK_PORT") >"$STATE/sink.log" 2>&1 &
pids+=("$!")

TOKEN=$(cd "$STATE/builds/work/catalog" && env "${common_env[@]}" Secrets__Directory="$STATE/secrets/app" ./Catalog.Api dev-token)
read_scenarios=$(for s in get-by-id by-sku list; do if [[ " $SCENARIOS " == *" $s "* ]]; then echo "$s"; fi; done)
for ROUND in $(seq "$ROUNDS"); do
for target in "${target_list[@]}"; do
  log "Round $ROUND/$ROUNDS: $target"
  key=${KEY[$target]}
  if [ "${KIND[$target]}" = pgbench ]; then
    "$(pg_bin)/pgbench" -n -S -c "$CONNECTIONS" -j "$THREADS" -T "$DURATION" -h 127.0.0.1 -p $STANDBY_PORT -U postgres pgbench \
      > "$STATE/$key.r$ROUND.out" 2>&1
    continue
  fi
  start "$target"
  rss_sampler "$TARGET_PID" "$STATE/$key.rss.r$ROUND" &
  [ "${KIND[$target]}" != raw ] && rss_sampler "$ASSETS_PID" "$STATE/$key-assets.rss.r$ROUND" &
  warm_up "$target"
  if [ "${KIND[$target]}" != raw ]; then reader_before=$(reads_by reader); writer_before=$(reads_by writer); fi
  for scenario in $read_scenarios; do run_wrk "$target" "$scenario"; done
  if [ "${KIND[$target]}" != raw ] && [ -n "$read_scenarios" ]; then
    echo "$(reads_by reader) $reader_before $(reads_by writer) $writer_before" | awk '{r=$1-$2; w=$3-$4; printf "%.3f\n", (r+w) ? 100*r/(r+w) : 0}' > "$STATE/$key.reader_share.r$ROUND"
  fi
  for scenario in $SCENARIOS; do [[ " $read_scenarios " == *" $scenario "* ]] || run_wrk "$target" "$scenario"; done
  kill "$TARGET_PID" "$ASSETS_PID" 2>/dev/null; wait "$TARGET_PID" "$ASSETS_PID" 2>/dev/null || true
done
done

# --- Report -------------------------------------------------------------------------------------------------------
# wrk numbers of one round: requests/s, p50 and p99 in ms, non-2xx responses.
rps() { awk '/^Requests\/sec/{print $2}' "$1"; }
to_ms() { awk -v v="$1" 'BEGIN{ if (v ~ /us$/) {sub(/us$/,"",v); print v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v+0} else if (v ~ /s$/) {sub(/s$/,"",v); print v*1000} else print v }'; }
pct() { to_ms "$(awk -v p="$2" '$1==p{print $2}' "$1")"; }
errors() { awk '/Non-2xx or 3xx responses/{print $5; f=1} END{if(!f) print 0}' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a == "?" || b == "?" || b <= 0) print "?"; else printf "%.2f", a/b }'; }
# CPU µs the target spent per request in one round: depends less on other load on the machine than requests/s.
cpu_us_round() { awk -v t="$(cat "$STATE/$1.$2.r$3.ticks")" -v r="$(awk '/requests in/{print $1}' "$STATE/$1.$2.r$3.wrk")" -v hz="$(getconf CLK_TCK)" 'BEGIN{ printf "%.0f\n", (r>0) ? t*1000000/hz/r : 0 }'; }
median() { sort -g | awk '{v[NR]=$1} END{ if (NR==0) print "?"; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2 }'; }
# Medians over the rounds of TARGET-KEY SCENARIO.
m_rps() { for r in $(seq "$ROUNDS"); do rps "$STATE/$1.$2.r$r.wrk"; done | median; }
m_pct() { for r in $(seq "$ROUNDS"); do pct "$STATE/$1.$2.r$r.wrk" "$3"; done | median; }
m_cpu() { for r in $(seq "$ROUNDS"); do cpu_us_round "$1" "$2" "$r"; done | median; }
sum_errors() { for r in $(seq "$ROUNDS"); do errors "$STATE/$1.$2.r$r.wrk"; done | awk '{s+=$1} END{print s+0}'; }
m_file() { for r in $(seq "$ROUNDS"); do cat "$STATE/$1.r$r" 2>/dev/null; done | median; }
max_file() { for r in $(seq "$ROUNDS"); do cat "$STATE/$1.r$r" 2>/dev/null; done | sort -g | tail -n 1; }
m_pgbench() { for r in $(seq "$ROUNDS"); do awk '/^tps/{print int($3); exit}' "$STATE/$1.r$r.out"; done | median; }
# met VALUE OP GOAL — ✅ or ❌.
met() { awk -v v="$1" -v op="$2" -v g="$3" 'BEGIN{ if (v == "?" || v == "") { print "?"; exit } ok = (op == ">=") ? (v+0 >= g+0) : (v+0 <= g+0); print ok ? "✅" : "❌" }'; }
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
in_targets() { [[ " ${target_list[*]} " == *" $1 "* ]]; }
service_targets=(); for t in "${target_list[@]}"; do [[ ${KIND[$t]} == service-* ]] && service_targets+=("$t"); done
pgbench_tps=""; in_targets pgbench && pgbench_tps=$(m_pgbench pgbench)

{
  echo "# Benchmark report"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ) · $(nproc) cores ($cpu) · $CONNECTIONS connections, $THREADS wrk threads, ${DURATION} s per scenario after ${WARMUP} s warm-up (and ${TARGET_WARMUP}–${TARGET_WARMUP_MAX} s per fresh target, until its tiered JIT used < ${JIT_SETTLED_PERCENT} % of a core) · $SEED_ROWS seeded products · medians of $ROUNDS interleaved rounds · traces: $TRACES_SAMPLER $TRACES_SAMPLER_ARG · targets: ${target_list[*]}${SERVICE_ENV:+ · SERVICE_ENV: $SERVICE_ENV}"
  for t in "${target_list[@]}"; do
    [ -n "${REF[$t]}" ] && echo "· $t: commit ${REF[$t]:0:12} ($(git log -1 --format=%s "${REF[$t]}" | cut -c1-100))"
    if [ -n "${VARIANT[$t]}" ]; then var="VARIANT_${VARIANT[$t]}"; echo "· $t: ${!var}"; fi
  done
  [ -n "$pgbench_tps" ] && echo && echo "pgbench -S against the reader, $CONNECTIONS connections: **$pgbench_tps tps** (the database's own limit on this machine)"

  if in_targets raw && in_targets service-on && in_targets service-off; then
    echo
    echo "## Goals"
    echo
    echo "| metric | goal | measured | |"
    echo "|---|---|---:|---|"
    goal_row() { local value; value=$2; echo "| $1 | $3 $4 | $value | $(met "$value" "$3" "$4") |"; }
    for scenario in $SCENARIOS; do
      case $scenario in create) goal=0.80 ;; *) goal=0.85 ;; esac
      goal_row "$scenario: service (telemetry off) / raw, req/s" "$(ratio "$(m_rps service-off $scenario)" "$(m_rps raw $scenario)")" ">=" $goal
    done
    for scenario in $SCENARIOS; do
      goal_row "$scenario: telemetry on / off, req/s" "$(ratio "$(m_rps service-on $scenario)" "$(m_rps service-off $scenario)")" ">=" 0.92
    done
    for t in service-on service-off; do
      goal_row "peak RSS under load, Catalog ($t), MB" "$(max_file $t.rss)" "<=" 160
      goal_row "peak RSS under load, Assets ($t), MB" "$(max_file $t-assets.rss)" "<=" 160
    done
    for t in service-on service-off; do
      goal_row "start → ready, Catalog ($t), ms" "$(m_file $t.startup_ms)" "<=" 500
      goal_row "start → ready, Assets ($t), ms" "$(m_file $t-assets.startup_ms)" "<=" 500
    done
    [ -n "$read_scenarios" ] && for t in service-on service-off; do
      goal_row "reads served by the reader under read-only load ($t), %" "$(m_file $t.reader_share)" ">=" 99
    done
  fi

  echo
  echo "## Each scenario"
  echo
  echo "| scenario | target | req/s | p50 ms | p99 ms | CPU µs/request | non-2xx |"
  echo "|---|---|---:|---:|---:|---:|---:|"
  for scenario in $SCENARIOS; do
    for t in "${target_list[@]}"; do
      [ "${KIND[$t]}" = pgbench ] && continue
      k=${KEY[$t]}
      echo "| $scenario | $t | $(m_rps $k $scenario) | $(m_pct $k $scenario 50%) | $(m_pct $k $scenario 99%) | $(m_cpu $k $scenario) | $(sum_errors $k $scenario) |"
    done
  done

  if [ ${#service_targets[@]} -gt 0 ]; then
    echo
    echo "## Ratios of req/s (CPU µs per request in brackets, lower is better)"
    echo
    echo "| ratio |$(for s in $SCENARIOS; do printf ' %s |' "$s"; done)"
    echo "|---|$(for s in $SCENARIOS; do printf -- '---:|'; done)"
    pair_row() { # pair_row LABEL A B
      local line="| $1 |" s
      for s in $SCENARIOS; do
        line="$line $(ratio "$(m_rps ${KEY[$2]} $s)" "$(m_rps ${KEY[$3]} $s)") ($(ratio "$(m_cpu ${KEY[$2]} $s)" "$(m_cpu ${KEY[$3]} $s)")) |"
      done
      echo "$line"
    }
    for t in "${service_targets[@]}"; do in_targets raw && pair_row "$t / raw" "$t" raw; done
    # Telemetry on / off and each part, for every build and variant that has both.
    for t in "${service_targets[@]}"; do
      [ "${KIND[$t]}" = service-off ] && continue
      off="service-off${t#${KIND[$t]}}"
      in_targets "$off" && pair_row "$t / $off" "$t" "$off"
    done
    # A/B: each commit or variant against the work tree's target of the same kind.
    for t in "${service_targets[@]}"; do
      [ "$t" = "${KIND[$t]}" ] && continue
      in_targets "${KIND[$t]}" && pair_row "$t / ${KIND[$t]}" "$t" "${KIND[$t]}"
    done
    # PAIRS="A/B …": further comparisons, e.g. two commits of a change.
    for pair in $PAIRS; do
      in_targets "${pair%%/*}" && in_targets "${pair#*/}" && pair_row "${pair%%/*} / ${pair#*/}" "${pair%%/*}" "${pair#*/}"
    done
    [ -n "$pgbench_tps" ] && in_targets service-on && [[ " $SCENARIOS " == *" get-by-id "* ]] &&
      echo "| service-on get-by-id / pgbench -S | $(ratio "$(m_rps service-on get-by-id)" "$pgbench_tps") |$(for s in ${SCENARIOS#get-by-id}; do printf ' |'; done)"
  fi

  echo
  echo "## Start-up, memory, read routing"
  echo
  echo "| target | start → ready ms, Catalog · Assets (goal ≤ 500) | peak RSS MB under load, Catalog · Assets (goal ≤ 160) | reads served by the reader % (goal ≥ 99) | warm-up s per round (JIT settled?) |"
  echo "|---|---:|---:|---:|---|"
  for t in "${target_list[@]}"; do
    k=${KEY[$t]}
    warm=$(for r in $(seq "$ROUNDS"); do awk '{printf "%s (%s) ", $1, $2}' "$STATE/$k.warmup.r$r" 2>/dev/null; done)
    case ${KIND[$t]} in
      pgbench) ;;
      raw) echo "| $t | $(m_file $k.startup_ms) | $(max_file $k.rss) | n/a | $warm|" ;;
      *) echo "| $t | $(m_file $k.startup_ms) · $(m_file $k-assets.startup_ms) | $(max_file $k.rss) · $(max_file $k-assets.rss) | $(m_file $k.reader_share) | $warm|" ;;
    esac
  done
} > "$RESULTS/report.md"

json_number() { [[ $1 =~ ^-?[0-9]+(\.[0-9]+)?$ ]] && echo "$1" || echo null; }
{
  echo "{"
  echo "  \"connections\": $CONNECTIONS, \"durationSeconds\": $DURATION, \"rounds\": $ROUNDS, \"cores\": $(nproc), \"pgbenchSelectOnlyTps\": $(json_number "$pgbench_tps"),"
  echo "  \"targets\": {"
  first_target=1
  for t in "${target_list[@]}"; do
    [ "${KIND[$t]}" = pgbench ] && continue
    k=${KEY[$t]}
    [ $first_target -eq 1 ] || echo ","; first_target=0
    if [ "${KIND[$t]}" = raw ]; then assets_startup=null assets_rss=null share=null
    else assets_startup=$(json_number "$(m_file $k-assets.startup_ms)") assets_rss=$(json_number "$(max_file $k-assets.rss)") share=$(json_number "$(m_file $k.reader_share)"); fi
    printf '    "%s": { "commit": %s, "startupToReadyMs": %s, "peakRssMb": %s, "readerSharePercent": %s, "assetsStartupToReadyMs": %s, "assetsPeakRssMb": %s, "scenarios": {' \
      "$t" "$( [ -n "${REF[$t]}" ] && echo "\"${REF[$t]}\"" || echo null)" "$(json_number "$(m_file $k.startup_ms)")" "$(json_number "$(max_file $k.rss)")" \
      "$share" "$assets_startup" "$assets_rss"
    first=1
    for scenario in $SCENARIOS; do
      [ $first -eq 1 ] || printf ','; first=0
      printf ' "%s": { "requestsPerSecond": %s, "p50Ms": %s, "p99Ms": %s, "cpuMicrosecondsPerRequest": %s, "non2xx": %s }' "$scenario" \
        "$(json_number "$(m_rps $k $scenario)")" "$(json_number "$(m_pct $k $scenario 50%)")" "$(json_number "$(m_pct $k $scenario 99%)")" \
        "$(json_number "$(m_cpu $k $scenario)")" "$(sum_errors $k $scenario)"
    done
    printf ' } }'
  done
  echo; echo "  }"; echo "}"
} > "$RESULTS/report.json"

cat "$RESULTS/report.md"
