#!/usr/bin/env bash
# The relay metrics test runs `promtool check metrics` on the relay's /metrics output (the format
# Prometheus itself accepts). promtool ships in Debian's `prometheus` package (~20 MB download);
# it is installed with apt when run as root. Otherwise this says how, and that test is skipped
# with a loud warning (the other /metrics tests still run).
set -euo pipefail
command -v promtool >/dev/null && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing promtool (Debian package prometheus, for the /metrics format test)..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d 101: the package's postinst must not start a Prometheus server here.
  policy=/usr/sbin/policy-rc.d
  made_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
  fi
  apt-get install -y -qq --no-install-recommends prometheus >/dev/null || true
  [ "$made_policy" = 1 ] && rm -f "$policy"
  command -v promtool >/dev/null && exit 0
fi
cat >&2 <<MSG
WARNING: promtool not found and could not be installed automatically.
The 'promtool check metrics' test of the relay is SKIPPED until you install it:
    sudo apt-get install -y --no-install-recommends prometheus
MSG
