#!/usr/bin/env bash
# The whole test suite: unit + simulation tests (vitest), then browser tests (Playwright).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-chromium.sh
npx vitest run
npx vite build >/dev/null
bash scripts/e2e.sh
