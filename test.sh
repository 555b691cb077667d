#!/usr/bin/env bash
# Everything CI runs (.ci/run calls this): installs what is missing, builds with warnings as errors, and runs every
# test against real components (PostgreSQL primary + standby, S3-compatible server, helm, promtool).
set -euo pipefail
cd "$(dirname "$0")"
. tools/deps.sh
deps_test

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
rm -rf TestResults
dotnet build Services.sln -c Release -nologo -clp:ErrorsOnly
# One test project at a time: several projects each starting PostgreSQL pairs and services on 2 cores would starve
# each other and turn timing bounds into noise. Every project runs even when an earlier one failed.
failed=()
for project in tests/*/*.Tests.csproj; do
  dotnet test "$project" -c Release --no-build --nologo \
    --results-directory TestResults \
    --logger "trx;LogFilePrefix=$(basename "$project" .csproj)" \
    --logger "junit;LogFilePath=$PWD/TestResults/{assembly}.junit.xml" \
    --logger "console;verbosity=normal" \
    "$@" || failed+=("$(basename "$project" .csproj)")
done
# What the fault tests measured (recovery times, failed requests, lost writes): the README's Reliability table.
if [ -f TestResults/figures.txt ]; then echo; echo "Figures:"; sort TestResults/figures.txt; fi
if [ ${#failed[@]} -gt 0 ]; then echo "FAILED: ${failed[*]}" >&2; exit 1; fi
echo "All test projects passed."
