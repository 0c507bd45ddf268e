// A feed's history on a light replica that joined (issue 9: "fetches older history from full
// replicas on demand"): device B joins device A's network from a snapshot, so it holds none of
// A's entries; its dashboard still shows A's whole feed, page by page, each page fetched from A
// over the direct WebRTC link with range requests and verified against A's head (not stored).
// Waits for conditions, never sleeps.
import { expect, test } from '@playwright/test';
import { openDevice, waitForPeer } from './fixtures.js';

const RECORDS = 120;

test(`a joined light replica shows a feed's history it never held (${RECORDS} entries), fetched from a peer`, async ({
  browser
}) => {
  test.setTimeout(120_000);
  const a = await openDevice(browser, '/');
  await a.page.evaluate(async (n) => {
    for (let i = 0; i < n; i += 40) {
      await Promise.all(Array.from({ length: Math.min(40, n - i) }, (_, j) => window.tabula!.put(`r${i + j}`, i + j)));
    }
  }, RECORDS);
  const author = await a.page.evaluate(() => window.tabula!.lastStatus!.author);
  const own = await a.page.evaluate((au) => window.tabula!.history(au, { limit: 500 }), author);
  expect(own.items.length).toBe(RECORDS);
  expect(own.items.every((i) => i.held)).toBe(true);

  const b = await openDevice(browser, '/dashboard');
  await waitForPeer(b, a.peerId, 'webrtc', 60_000);
  await b.page.waitForFunction(
    (n) =>
      (window.tabula?.lastStatus?.ledger.entries ?? 0) >= n && window.tabula?.lastStatus?.join?.state !== 'waiting',
    RECORDS,
    { timeout: 60_000 }
  );
  // B's sync session with A is up (A's hello arrived): history requests have a peer to go to.
  await b.page.waitForFunction(
    (id) => window.tabula?.lastStatus?.sync.peers.some((p) => p.peer === id && p.role !== null) === true,
    a.peerId,
    { timeout: 60_000 }
  );
  const st = await b.page.evaluate(() => window.tabula!.status());
  console.log(
    `history e2e: B join ${JSON.stringify(st.join?.state)}, ${st.ledger.storage.bytesUsed} B of entries held`
  );

  // The dashboard: A's feed, newest first; older pages on demand.
  await b.page.getByRole('button', { name: `History of ${author.slice(0, 16)}` }).click();
  const panel = b.page.getByTestId('feed-history');
  await expect(panel.locator(`tr[data-seq="${RECORDS}"]`)).toBeVisible({ timeout: 30_000 });
  while ((await panel.locator('tr[data-seq="1"]').count()) === 0) {
    const rows = await panel.locator('tr[data-seq]').count();
    await panel.getByRole('button', { name: 'Load older' }).click();
    await expect(panel.locator('tr[data-seq]')).not.toHaveCount(rows, { timeout: 30_000 });
  }
  await expect(panel.locator('tr[data-seq]')).toHaveCount(RECORDS);
  await expect(panel.locator('tr[data-seq="1"]')).toContainText('r0 = 0');
  await expect(panel.getByRole('alert')).toHaveCount(0);
  await panel.screenshot({ path: test.info().outputPath('dashboard-history.png') });

  // The API: the same entries (hashes) as A's own history, none of them stored on B.
  const got = await b.page.evaluate((au) => window.tabula!.history(au, { limit: 500 }), author);
  expect(got.items.map((i) => i.hash)).toEqual(own.items.map((i) => i.hash));
  const held = got.items.filter((i) => i.held).length;
  console.log(`history e2e: ${got.items.length} entries on B, ${held} held, ${RECORDS - held} fetched from peers`);
  expect(held).toBeLessThan(RECORDS);
  await Promise.all([a, b].map((d) => d.context.close()));
});
