// Offline-first (issue 8.5): the service worker caches the app shell, so a returning visitor with
// no network loads `/`, sees and edits the replica in IndexedDB, and the edit syncs once peers
// return. Each browser context is a separate device; the relay is real.
import { expect, test, type Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { openDevice } from './fixtures.js';

const SYNC_TIMEOUT_MS = 60_000;

function row(page: Page, key: string) {
  return page.getByRole('table', { name: 'Records' }).locator(`tr[data-key="${key}"]`);
}

async function save(page: Page, key: string, value: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Key' }).fill(key);
  await page.getByRole('textbox', { name: 'Value' }).fill(value);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(row(page, key)).toContainText(value);
  await expect(page.getByRole('textbox', { name: 'Key' })).toHaveValue('');
}

test('an offline reload shows the records and accepts an edit, which reaches another device once online', async ({
  browser
}) => {
  test.setTimeout(120_000);
  // Unique per run: the relay is shared with other tests.
  const key = `offline-${randomBytes(4).toString('hex')}`;
  const a = await openDevice(browser);
  await a.page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  await save(a.page, key, 'written online');

  await a.context.setOffline(true);
  // The network is really gone for the page: the relay's health check no longer answers.
  const reachable = await a.page.evaluate(() =>
    fetch('/healthz', { cache: 'no-store' }).then(
      () => true,
      () => false
    )
  );
  expect(reachable).toBe(false);

  const response = await a.page.reload();
  expect(response?.fromServiceWorker()).toBe(true);
  await expect(a.page.getByRole('heading', { name: 'Tabula' })).toBeVisible();
  await expect(a.page.getByRole('status').first()).toContainText('Offline');
  await expect(row(a.page, key)).toContainText('written online');
  await save(a.page, key, 'edited offline');

  const b = await openDevice(browser);
  await a.context.setOffline(false);
  await b.page.waitForFunction((k) => window.tabula!.get(k).then((v) => v === 'edited offline'), key, {
    timeout: SYNC_TIMEOUT_MS,
    polling: 250
  });
  await expect(row(b.page, key)).toContainText('edited offline');
  await a.context.close();
  await b.context.close();
});
