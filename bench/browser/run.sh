#!/usr/bin/env bash
# The browser benchmarks inside a loopback-only network namespace when we may create one (as
# scripts/e2e.sh does for the browser tests). Arguments are passed to bench/browser/main.ts.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/ensure-chromium.sh
run='ip link set lo up && exec npx tsx bench/browser/main.ts "$@"'
if [ "$(id -u)" = "0" ] && unshare -n true 2>/dev/null; then
  echo "bench: loopback-only network namespace (unshare -n)"
  exec unshare -n bash -c "$run" bash "$@"
elif unshare -rn true 2>/dev/null; then
  echo "bench: loopback-only network namespace (unshare -rn)"
  exec unshare -rn bash -c "$run" bash "$@"
else
  echo "bench: WARNING: cannot create a network namespace here; running on the host network (loopback only by configuration)" >&2
  exec npx tsx bench/browser/main.ts "$@"
fi
