#!/usr/bin/env bash
# Installs what stateproof and its tests need on a Debian machine, skipping what is already there:
# Debian's packages (redis-server for the store path, chromium for the report page test), then the
# npm packages (npm ci) when node_modules is missing or older than package-lock.json.
# Used by bin/quickstart.sh (the README's set-up command) and by .ci/run. Needs root or sudo only
# when a Debian package is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package that provides it
declare -A wanted=(
  [redis-server]=redis-server
  [chromium]=chromium
)

missing=()
for cmd in "${!wanted[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${wanted[$cmd]}")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]} (Debian packages)"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund
fi
