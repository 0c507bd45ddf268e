// A real full disk in Chromium: CDP's Storage.overrideQuotaForOrigin gives the app's origin a
// small quota, then the node's IndexedDB writes fail the way the browser really reports them
// (issue 6, case 9, next to the injected shapes in test/unit/store-dexie-faults.test.ts).
import { expect, test, type Page } from '@playwright/test';
import { openDevice } from './fixtures.js';

/**
 * Headroom above the origin's usage when the quota is set. Chromium's usage accounting lags the
 * writes (here 190-300 writes of 30 KB went in under 2 MB of headroom), hence the write cap.
 */
const HEADROOM_BYTES = 1024 * 1024;
/** Characters per written value (under RECORD_VALUE_MAX_BYTES) and the most writes tried. */
const VALUE_CHARS = 30_000;
const MAX_WRITES = 1000;

/** Writes big records until one fails; returns how many were stored and the failure's name and code. */
async function fillUp(page: Page): Promise<{ stored: number; name: string; code?: string; message: string }> {
  return page.evaluate(
    async ([chars, max]) => {
      // Incompressible-ish text, so no storage layer can shrink it below the quota.
      const noise = (n: number) => {
        const bytes = crypto.getRandomValues(new Uint8Array(n));
        return Array.from(bytes, (b) => String.fromCharCode(48 + (b % 75))).join('');
      };
      for (let i = 0; i < max; i++) {
        try {
          await window.tabula!.put(`big-${i}`, noise(chars));
        } catch (e) {
          const err = e as Error & { code?: string };
          return { stored: i, name: err.name, code: err.code, message: err.message };
        }
      }
      return { stored: max, name: 'none', message: 'no write failed' };
    },
    [VALUE_CHARS, MAX_WRITES] as const
  );
}

/** What a failed write must not change: every record (key and value length) and every feed head. */
async function visibleState(page: Page) {
  return page.evaluate(async () => {
    const records = (await window.tabula!.records()).map((r) => [r.key, JSON.stringify(r.value).length]);
    return { records, feeds: await window.tabula!.feeds() };
  });
}

test('a full origin quota: StorageQuotaError, a clear alert, no partial entry, and writes work again once there is room', async ({
  browser
}) => {
  test.setTimeout(300_000);
  const a = await openDevice(browser, '/', { offline: true });
  await a.page.waitForFunction(() => window.tabula?.phase === 'running');
  await a.page.evaluate(() => window.tabula!.put('before', 'small'));

  const origin = new URL(a.page.url()).origin;
  const cdp = await a.context.newCDPSession(a.page);
  const usage = await a.page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage + HEADROOM_BYTES });

  const fail = await fillUp(a.page);
  console.log(
    `quota ${usage + HEADROOM_BYTES} bytes: ${fail.stored} writes stored, then ${fail.name}: ${fail.message}`
  );
  expect(fail.stored).toBeGreaterThan(0);
  expect(fail).toMatchObject({ name: 'StorageQuotaError', code: 'storage-quota' });

  // Nothing of the failed write: the same write fails again and changes no record and no head.
  const before = await visibleState(a.page);
  expect(before.records.map(([k]) => k)).not.toContain(`big-${fail.stored}`);
  const again = await a.page.evaluate(
    (k) =>
      window.tabula!.put(k, 'x'.repeat(30_000)).then(
        () => 'stored',
        (e: Error) => e.name
      ),
    `big-${fail.stored}`
  );
  expect(again).toBe('StorageQuotaError');
  expect(await visibleState(a.page)).toEqual(before);
  expect(before.feeds.find((f) => f.local)?.seq).toBe(fail.stored + 1); // 'before' + the big ones

  // Through the page: the alert says what happened and nothing is shown as saved.
  await a.page.getByRole('textbox', { name: 'Key' }).fill('from-ui');
  await a.page.getByRole('textbox', { name: 'Value' }).fill('y'.repeat(30_000));
  await a.page.getByRole('button', { name: 'Save' }).click();
  await expect(a.page.getByRole('alert')).toContainText('no storage space left');
  await expect(a.page.getByRole('alert')).toContainText('StorageQuotaError');
  await expect(a.page.getByRole('table', { name: 'Records' }).locator('tr[data-key="from-ui"]')).toHaveCount(0);

  // A reload opens the store cleanly (no CorruptStoreError) with exactly what was stored.
  await a.page.reload();
  await a.page.waitForFunction(() => window.tabula !== undefined);
  const opened = await a.page.evaluate(
    () =>
      new Promise<string>((resolve) => {
        const t = window.tabula!;
        t.onFatal((e) => resolve(`fatal ${e.name}: ${e.message}`));
        const running = () => (t.phase === 'running' ? resolve('running') : setTimeout(running, 50));
        running();
      })
  );
  expect(opened).toBe('running');
  expect(await visibleState(a.page)).toEqual(before);

  // Room again: the next write succeeds and takes the next seq.
  await cdp.send('Storage.overrideQuotaForOrigin', { origin });
  const receipt = await a.page.evaluate(() => window.tabula!.put('after', 'room again'));
  expect(receipt.seq).toBe(fail.stored + 2);
  expect(await a.page.evaluate(() => window.tabula!.get('after'))).toBe('room again');
  await a.context.close();
});
