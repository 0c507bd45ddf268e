#!/usr/bin/env bash
# The snapshot tests read exported files with `zcat FILE | jq` (the documented way to read a
# snapshot), so they need jq and zcat. Installed with apt when run as root; otherwise this says
# how, and those tests FAIL (they never pass silently without the tools).
set -euo pipefail
missing=()
command -v jq >/dev/null || missing+=(jq)
command -v zcat >/dev/null || missing+=(gzip)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing ${missing[*]} (the snapshot tests read files with zcat | jq)..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
  command -v jq >/dev/null && command -v zcat >/dev/null && exit 0
fi
cat >&2 <<MSG
WARNING: ${missing[*]} not found and could not be installed automatically.
The snapshot tests that read files with 'zcat | jq' will FAIL until you install them:
    sudo apt-get install -y ${missing[*]}
MSG
