#!/usr/bin/env bash
# Playwright tests against the built app and a real relay, inside a loopback-only network
# namespace when we may create one (root, or unprivileged user namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-chromium.sh
bash scripts/ensure-jq.sh
[ -f build/index.html ] || npx vite build >/dev/null
# The storage compliance suite, bundled for the browser (test/e2e/store-compliance.spec.ts).
npx vite build --config test/browser/vite.config.ts >/dev/null
run='ip link set lo up && exec npx playwright test "$@"'
if [ "$(id -u)" = "0" ] && unshare -n true 2>/dev/null; then
  echo "e2e: loopback-only network namespace (unshare -n)"
  exec unshare -n bash -c "$run" bash "$@"
elif unshare -rn true 2>/dev/null; then
  echo "e2e: loopback-only network namespace (unshare -rn)"
  exec unshare -rn bash -c "$run" bash "$@"
else
  echo "e2e: WARNING: cannot create a network namespace here; running on the host network (loopback only by configuration)" >&2
  exec npx playwright test "$@"
fi
