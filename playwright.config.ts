import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './test/e2e/chromium.js';

// Browser tests run against a real relay serving the built app (npm run build first), inside a
// loopback-only network namespace (scripts/e2e.sh). Ports avoid the defaults so a running
// `npm start` does not collide.
const HTTP_PORT = Number(process.env.E2E_HTTP_PORT ?? 18080);
const RELAY_PORT = Number(process.env.E2E_RELAY_PORT ?? 19090);
const dataDir = mkdtempSync(join(tmpdir(), 'tabula-e2e-'));

export default defineConfig({
  testDir: 'test/e2e',
  fullyParallel: false,
  workers: 1,
  // CI retries a failed spec once: direct WebRTC links on this loopback-only, 2-core machine
  // sometimes do not form in time (README "Tests"). A retried pass is listed as flaky.
  retries: process.env.CI ? 1 : 0,
  timeout: 60_000,
  expect: { timeout: 20_000 },
  reporter: process.env.CI ? [['list']] : [['list']],
  use: {
    baseURL: `http://127.0.0.1:${HTTP_PORT}`,
    trace: 'off',
    launchOptions: {
      executablePath: CHROMIUM_PATH,
      args: CHROMIUM_ARGS
    }
  },
  webServer: {
    command: `npx tsx relay/main.ts --port ${HTTP_PORT} --relay-port ${RELAY_PORT} --data-dir ${dataDir}`,
    url: `http://127.0.0.1:${HTTP_PORT}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 5000 }
  }
});
