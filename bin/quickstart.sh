#!/usr/bin/env bash
# One command from a fresh clone to a verdict: installs redis-server when it is missing (Debian's
# package; sudo when not root), installs the npm packages, then runs the default suite against the
# embedded topology and leaves its report under reports/.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1; then
  echo "quickstart: installing redis-server (Debian package)"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund
fi

exec node bin/stateproof.mjs suite "$@"
