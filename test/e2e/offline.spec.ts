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
  // waitForFunction does not await a promise: poll the client from here.
  await expect
    .poll(() => b.page.evaluate((k) => window.tabula!.get(k), key), { timeout: SYNC_TIMEOUT_MS })
    .toBe('edited offline');
  await expect(row(b.page, key)).toContainText('edited offline');
  await a.context.close();
  await b.context.close();
});

test('a long catch-up shows a progress bar on / that counts the entries remaining', async ({ browser }) => {
  test.setTimeout(180_000);
  const N = 1000;
  const prefix = `bulk-${randomBytes(4).toString('hex')}-`;
  const a = await openDevice(browser);
  await a.page.waitForFunction(() => window.tabula?.phase === 'running');
  await a.page.evaluate(
    async ([p, count]) => {
      for (let i = 0; i < count; i += 20) {
        const batch = [];
        for (let j = i; j < Math.min(count, i + 20); j++) batch.push(window.tabula!.put(`${p}${j}`, j));
        await Promise.all(batch);
      }
    },
    [prefix, N] as const
  );

  // B loads with the relay list held back, so the observer is in place before any entry arrives.
  const context = await browser.newContext();
  await context.grantPermissions(['microphone']);
  await context.route('**/api/relays', (route) => route.abort('internetdisconnected'));
  const page = await context.newPage();
  // `?join=0`: the progress bar of a catch-up by sync (a default join loads the state instead).
  await page.goto('/?join=0');
  await page.waitForFunction(() => window.tabula?.lastStatus?.peerId !== undefined);
  await page.evaluate(() => {
    const seen = { bars: 0, maxBar: 0, maxMissing: 0, texts: [] as string[] };
    (window as unknown as { seenProgress: typeof seen }).seenProgress = seen;
    window.tabula!.subscribe((ev) => {
      if (ev.type === 'status') {
        seen.maxMissing = Math.max(seen.maxMissing, ev.status.sync.missing);
      }
    });
    new MutationObserver(() => {
      const bar = document.querySelector<HTMLProgressElement>('progress[aria-label="Catch-up progress"]');
      if (bar === null) return;
      seen.bars++;
      seen.maxBar = Math.max(seen.maxBar, bar.max);
      const text = bar.parentElement?.textContent?.trim() ?? '';
      if (seen.texts.length < 50 && !seen.texts.includes(text)) seen.texts.push(text);
    }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  });
  await context.unroute('**/api/relays');
  await page.waitForFunction((n) => (window.tabula?.lastStatus?.ledger.entries ?? 0) >= n, N, {
    timeout: 120_000,
    polling: 100
  });
  // The page's record view follows the status asynchronously: wait for it.
  await expect.poll(() => page.evaluate((p) => window.tabula!.get(`${p}999`), prefix)).toBe(999);
  const seen = await page.evaluate(
    () =>
      (window as unknown as { seenProgress: { bars: number; maxBar: number; maxMissing: number; texts: string[] } })
        .seenProgress
  );
  console.log(
    `catch-up progress: ${seen.bars} updates, largest gap ${seen.maxBar}, most missing in a status ${seen.maxMissing}, e.g. ${seen.texts.slice(0, 3).join(' | ')}`
  );
  expect(seen.bars).toBeGreaterThan(0);
  expect(seen.maxBar).toBeGreaterThanOrEqual(10);
  expect(seen.texts.some((t) => /^Catching up: [\d,]+ entr(y|ies) remaining$/.test(t))).toBe(true);
  // Once caught up, the bar is gone.
  await expect(page.getByRole('progressbar', { name: 'Catch-up progress' })).toHaveCount(0);
  await a.context.close();
  await context.close();
});
