// Verified join in the browser (opt-in `?join=1`): a fresh device loads the state of a peer from
// a join snapshot instead of replaying its entries, shows progress in status().join, is marked
// unverified (one peer asked: the plain relay does not serve join), then tails live entries both
// ways through sync and gossip, its own writes included. Waits for conditions, never sleeps.
import { expect, test } from '@playwright/test';
import { openDevice, waitForPeer } from './fixtures.js';

const RECORDS = 300;

test('a fresh device joins from a peer snapshot, unverified with one peer, then tails live entries', async ({
  browser
}) => {
  const a = await openDevice(browser, '/');
  await a.page.evaluate(async (n) => {
    for (let i = 0; i < n; i += 25) {
      await Promise.all(Array.from({ length: Math.min(25, n - i) }, (_, j) => window.tabula!.put(`r${i + j}`, i + j)));
    }
  }, RECORDS);
  const t0 = Date.now();
  const b = await openDevice(browser, '/?join=1');
  await waitForPeer(b, a.peerId);
  const tPeer = Date.now();
  await b.page.waitForFunction(
    () => ['verified', 'unverified'].includes(window.tabula?.lastStatus?.join?.state ?? ''),
    undefined,
    { timeout: 30_000, polling: 50 }
  );
  const joinMs = Date.now() - t0;
  const afterPeerMs = Date.now() - tPeer;
  const st = await b.page.evaluate(() => window.tabula!.status());
  console.log(
    `join e2e: ${RECORDS} records joined in ${joinMs} ms from page open, ${afterPeerMs} ms after the WebRTC peer appeared: ${JSON.stringify(st.join)}`
  );
  expect(st.join).toMatchObject({ state: 'unverified', verified: false, peersAsked: 1, agreeing: 1, entries: RECORDS });
  expect(st.join!.bytes).toBe(st.join!.totalBytes);
  expect(st.join!.bytes).toBeGreaterThan(0);
  expect(st.ledger.unverified).toBe(true);
  expect(await b.page.evaluate(() => window.tabula!.records().then((r) => r.length))).toBe(RECORDS);
  expect(await b.page.evaluate(() => window.tabula!.get('r7'))).toBe(7);

  // Tails live entries: A's new write reaches B, and B's write (on top of a loaded head) reaches A.
  await a.page.evaluate(() => window.tabula!.put('after-join-a', 'from a'));
  await expect
    .poll(() => b.page.evaluate(() => window.tabula!.get('after-join-a')), { timeout: 30_000 })
    .toBe('from a');
  await b.page.evaluate(() => window.tabula!.put('r1', 'edited by the joined device'));
  await expect
    .poll(() => a.page.evaluate(() => window.tabula!.get('r1')), { timeout: 30_000 })
    .toBe('edited by the joined device');
  await expect
    .poll(async () => {
      const [x, y] = await Promise.all([a, b].map((d) => d.page.evaluate(() => window.tabula!.status())));
      return x.sync.root === y.sync.root;
    })
    .toBe(true);

  // A device without ?join=1 replays entries as before and reports the join off.
  const c = await openDevice(browser, '/');
  expect(await c.page.evaluate(() => window.tabula!.status().then((s) => s.join?.state))).toBe('off');
  await Promise.all([a, b, c].map((d) => d.context.close()));
});
