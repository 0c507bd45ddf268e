#!/usr/bin/env bash
# Browser tests use Debian's Chromium (no browser is ever downloaded by npm).
set -euo pipefail
CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM_PATH" ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing Debian chromium (browser tests need it)..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
  [ -x "$CHROMIUM_PATH" ] && exit 0
fi
cat >&2 <<MSG
Chromium was not found at $CHROMIUM_PATH and could not be installed automatically.
Install it with:   sudo apt-get install -y chromium
or point CHROMIUM_PATH at a Chromium/Chrome binary, then run npm test again.
MSG
exit 1
