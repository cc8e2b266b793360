#!/usr/bin/env bash
# One command from a fresh clone to a verdict: installs everything stateproof and its tests need
# (bin/setup.sh: redis-server, valkey-server, postgresql, chromium, the npm packages), then runs
# the default suite against the embedded topology and leaves its report under reports/. After it, `npm test` needs nothing more.
set -euo pipefail
cd "$(dirname "$0")/.."

bash bin/setup.sh
exec node bin/stateproof.mjs suite "$@"
