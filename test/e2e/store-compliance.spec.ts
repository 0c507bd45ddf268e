import { expect, test } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';

// The shared LedgerStore compliance suite, built by scripts/e2e.sh into build-tests/compliance,
// served on the app's origin so it runs against Chromium's real IndexedDB.
const ROOT = join(process.cwd(), 'build-tests', 'compliance');
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript' };

test('Dexie store passes the storage compliance suite on real IndexedDB', async ({ page }) => {
  await page.route('**/__compliance/**', async (route) => {
    const path = new URL(route.request().url()).pathname.replace('/__compliance/', '');
    const file = join(ROOT, path === '' ? 'index.html' : path);
    if (!file.startsWith(ROOT)) return route.fulfill({ status: 403 });
    const body = await readFile(file).catch(() => undefined);
    if (body === undefined) return route.fulfill({ status: 404 });
    return route.fulfill({ body, contentType: TYPES[extname(file)] ?? 'application/octet-stream' });
  });
  page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
  await page.goto('/__compliance/index.html');
  const handle = await page.waitForFunction(() => window.complianceResults, null, { timeout: 60_000 });
  const results = (await handle.jsonValue()) as { name: string; ok: boolean; error?: string }[];
  const failed = results.filter((r) => !r.ok);
  console.log(`store compliance in Chromium: ${results.length - failed.length}/${results.length} passed`);
  expect(failed).toEqual([]);
  // The suite must actually have run: every compliance case, not zero.
  expect(results.length).toBeGreaterThanOrEqual(13);
});
