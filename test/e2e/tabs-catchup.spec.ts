// Red team (issue 7): a profile's leader tab closes in the middle of a catch-up; the second tab
// of the same profile takes over the node and must still finish it: every entry, the same heads
// as the other device, nothing missing.
import { expect, test, type Page } from '@playwright/test';
import { openDevice, waitForPeer } from './fixtures.js';

const N = 1500;

async function entries(page: Page): Promise<number> {
  return page.evaluate(() => window.tabula?.lastStatus?.ledger.entries ?? 0);
}

async function heads(page: Page): Promise<string[]> {
  const feeds = await page.evaluate(() => window.tabula!.feeds());
  return feeds.map((f) => `${f.author}:${f.seq}:${f.hash}`).sort();
}

test('the leader tab closes mid catch-up: the second tab of the profile finishes it', async ({ browser }) => {
  test.setTimeout(300_000);
  const b = await openDevice(browser, '/');
  await b.page.waitForFunction(() => window.tabula?.phase === 'running');
  await b.page.evaluate(
    async ([count, par]) => {
      for (let i = 0; i < count; i += par) {
        const batch = [];
        for (let j = i; j < Math.min(count, i + par); j++) batch.push(window.tabula!.put(`bulk-${j}`, j));
        await Promise.all(batch);
      }
    },
    [N, 20] as const
  );

  // `?join=0`: a catch-up by sync (a default join would load the state at once, not mid-way).
  const a = await openDevice(browser, '/?join=0');
  const second = await a.context.newPage();
  second.on('pageerror', (err) => console.error(`[second tab error] ${err.message}`));
  await second.goto('/?join=0');
  await second.waitForFunction(() => window.tabula?.phase === 'running');
  expect(await second.evaluate(() => window.tabula!.role)).toBe('follower');
  await waitForPeer(a, b.peerId, 'webrtc', 90_000); // the direct link can take long on a loaded machine
  // Close the leader as soon as the catch-up has visibly started.
  await a.page.waitForFunction(() => (window.tabula?.lastStatus?.ledger.entries ?? 0) >= 1, undefined, {
    timeout: 120_000,
    polling: 20
  });
  const atClose = await entries(a.page);
  const t0 = Date.now();
  await a.page.close();
  console.log(`leader tab closed with ${atClose} of ${N} entries (${atClose < N ? 'mid' : 'after the'} catch-up)`);
  await second.waitForFunction(() => window.tabula?.role === 'leader', undefined, { timeout: 30_000 });
  await second.waitForFunction((n) => (window.tabula?.lastStatus?.ledger.entries ?? 0) >= n, N, {
    timeout: 120_000,
    polling: 100
  });
  console.log(`second tab finished the catch-up ${Date.now() - t0} ms after the leader tab closed`);
  expect(await heads(second)).toEqual(await heads(b.page));
  expect(await second.evaluate(() => window.tabula!.get(`bulk-${1499}`))).toBe(1499);
  await expect
    .poll(() => second.evaluate(() => window.tabula!.status().then((s) => s.sync.missing)), { timeout: 30_000 })
    .toBe(0);
  await a.context.close();
  await b.context.close();
});
