#!/usr/bin/env bash
# Makes sure Debian's chromium is installed for the ops page's browser test.
# Installs it with apt-get when missing and running as root; otherwise says
# what to install (the browser test then skips, saying why).
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "chromium not found: installing it with apt-get (for the ops page browser test)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  if apt-get install -y -qq --no-install-recommends chromium >&2; then
    exit 0
  fi
fi
echo "chromium is not installed: the ops page browser test will be skipped (Debian/Ubuntu: sudo apt-get install chromium)" >&2
exit 0
