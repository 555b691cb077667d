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
dotnet test Services.sln -c Release --no-build --nologo \
  --results-directory TestResults \
  --logger "trx" \
  --logger "junit;LogFilePath=$PWD/TestResults/{assembly}.junit.xml" \
  --logger "console;verbosity=normal" \
  "$@"
# What the fault tests measured (recovery times, failed requests, lost writes): the README's Reliability table.
if [ -f TestResults/figures.txt ]; then echo; echo "Figures:"; sort TestResults/figures.txt; fi
