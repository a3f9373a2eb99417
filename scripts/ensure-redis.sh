#!/usr/bin/env bash
# Makes sure redis-server and redis-cli are on PATH: the tests and `depositd
# dev` start their own private redis-server processes (redis-cli creates the
# tests' Redis Cluster). Installs it with apt-get when missing and
# running as root; otherwise says exactly what to install.
set -euo pipefail
have() { command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; }
if have; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "redis-server not found: installing it with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends redis-server >&2
  have && exit 0
fi
cat >&2 <<'MSG'
redis-server and redis-cli are required (tests and `depositd dev` start private instances of it).
Install it, then run the command again:
  Debian/Ubuntu:  sudo apt-get install redis-server   (redis-cli comes with it)
  macOS:          brew install redis
MSG
exit 1
