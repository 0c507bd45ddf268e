import { defineConfig } from '@playwright/test';
import base from './playwright.config';

// `npm run soak` (test/soak/run.ts) runs the browser scenarios of the fault suite (issue 12) with
// the soak numbers (SOAK=1), each test bounded by its own timeout and the whole run by
// globalTimeout. A JSON report of the Playwright results goes to SOAK_PW_JSON for the runner.
export default defineConfig({
  ...base,
  grep: /\bS\d+: /,
  timeout: 10 * 60_000,
  globalTimeout: 18 * 60_000,
  reporter: [['list'], ['json', { outputFile: process.env.SOAK_PW_JSON ?? 'test-results/soak-playwright.json' }]]
});
