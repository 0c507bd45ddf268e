#!/usr/bin/env bash
# The whole test suite: types and lint, unit + simulation tests (vitest), then browser tests
# (Playwright against the built app and a real relay, in a loopback-only network namespace).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-chromium.sh
bash scripts/ensure-jq.sh
bash scripts/ensure-promtool.sh
echo "== check (svelte-check + tsc) and lint"
npm run --silent check
npx eslint .
npx prettier --check . >/dev/null
echo "== unit and simulation tests"
npx vitest run
echo "== build"
npx vite build >/dev/null
echo "== browser tests"
bash scripts/e2e.sh
