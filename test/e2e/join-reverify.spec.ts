// A device that joined unverified (one peer around) and was closed before it could check its
// state again must re-verify after it reopens, once enough agreeing peers are around
// (PROTOCOL.md §13 rule 7). Found by a break-it review: after a reopen nothing ran the check, so
// the device stayed unverified (and never served joins) for good.
import { expect, test } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDevice, waitForPeer, type Device } from './fixtures.js';
import { launchProfile, openApp } from './fault-kit.js';

async function reopen(dir: string): Promise<Device> {
  const context = await launchProfile(dir);
  const page = await openApp(context);
  return { context, page, peerId: await page.evaluate(() => window.tabula!.status().then((s) => s.peerId)) };
}

const rootOf = (d: Device) => d.page.evaluate(() => window.tabula!.status().then((s) => s.sync.root));

test('a device that joined unverified re-verifies after a reopen once 3 agreeing peers are linked', async ({
  browser
}) => {
  test.setTimeout(240_000);
  const a = await openDevice(browser, '/?join=0');
  await a.page.evaluate(async () => {
    for (let i = 0; i < 300; i += 50)
      await Promise.all(Array.from({ length: 50 }, (_, j) => window.tabula!.put(`r${i + j}`, i + j)));
  });
  const dir = mkdtempSync(join(tmpdir(), 'tabula-reverify-'));
  let b = await reopen(dir); // joins from its one peer: installed, unverified
  await b.page.waitForFunction(() => window.tabula?.lastStatus?.join?.state === 'unverified', null, {
    timeout: 60_000
  });
  await b.context.close();
  // Two more devices replay from signed entries and serve joins; nobody writes from here on.
  const c = await openDevice(browser, '/?join=0');
  const d = await openDevice(browser, '/?join=0');
  await expect.poll(async () => new Set(await Promise.all([a, c, d].map(rootOf))).size, { timeout: 60_000 }).toBe(1);
  b = await reopen(dir);
  expect(await b.page.evaluate(() => window.tabula!.status().then((s) => s.ledger.unverified))).toBe(true);
  await Promise.all([a, c, d].map((x) => waitForPeer(b, x.peerId, 'webrtc', 60_000)));
  await b.page.waitForFunction(() => window.tabula?.lastStatus?.ledger.unverified === false, null, {
    timeout: 60_000
  });
  const s = await b.page.evaluate(() => window.tabula!.status());
  expect(s.join).toMatchObject({ state: 'verified', verified: true });
  await Promise.all([a, b, c, d].map((x) => x.context.close()));
});
