#!/usr/bin/env bash
# Installs what stateproof and its tests need on a Debian machine, skipping what is already there:
# Debian's packages (redis-server, valkey-server and postgresql for the stores, chromium for the
# report page test), then the npm packages (npm ci) when node_modules is missing or older than
# package-lock.json. Debian 12 has valkey-server only in bookworm-backports: that suite is added
# (beside the machine's own Debian source) when missing, and valkey-server comes from it.
# Used by bin/quickstart.sh (the README's set-up command) and by .ci/run. Needs root or sudo only
# when a Debian package is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
apt_env=(env DEBIAN_FRONTEND=noninteractive)
# Keep config files already on the machine (e.g. createcluster.conf below) without asking.
apt_opts=(-y -qq -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

# command -> Debian package that provides it
declare -A wanted=(
  [redis-server]=redis-server
  [chromium]=chromium
)

missing=()
for cmd in "${!wanted[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${wanted[$cmd]}")
done
# Debian keeps initdb and postgres off PATH, under /usr/lib/postgresql/<version>/bin.
if ! command -v initdb >/dev/null 2>&1 && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  missing+=(postgresql)
  # stateproof makes its own clusters in temp dirs; the package's default one would only sit on 5432.
  if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    $SUDO mkdir -p /etc/postgresql-common
    echo 'create_main_cluster = false' | $SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null
  fi
fi

valkey_from=()
if ! command -v valkey-server >/dev/null 2>&1; then
  codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
  if [ "$codename" = bookworm ]; then
    valkey_from=(-t bookworm-backports)
    if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
      # The same mirror as the machine's own Debian source, with the backports suite.
      uri="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
      [ -n "$uri" ] || uri="$(awk '/^deb / && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)"
      [ -n "$uri" ] || uri=http://deb.debian.org/debian
      printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" |
        $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
    fi
  fi
fi

if [ ${#missing[@]} -gt 0 ] || ! command -v valkey-server >/dev/null 2>&1; then
  echo "setup: installing ${missing[*]}${missing[*]:+ }$(command -v valkey-server >/dev/null 2>&1 || echo valkey-server) (Debian packages)"
  $SUDO "${apt_env[@]}" apt-get update -qq
  [ ${#missing[@]} -eq 0 ] || $SUDO "${apt_env[@]}" apt-get install "${apt_opts[@]}" "${missing[@]}" >/dev/null
  command -v valkey-server >/dev/null 2>&1 || $SUDO "${apt_env[@]}" apt-get install "${apt_opts[@]}" "${valkey_from[@]}" valkey-server >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund
fi
