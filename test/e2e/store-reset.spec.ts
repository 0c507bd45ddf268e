// A profile whose IndexedDB the browser discards. Chromium deletes an origin's backing store at
// open when it finds it corrupt, and marks one it found corrupt while running with
// `corruption_info.json` in the store's LevelDB folder, deleting it at the next open. Here that
// marker is written into a closed profile, so real Chromium discards the real store. The node
// must say so (status.storeReset with the browser's reason, an alert on the page), restore its
// identity and own entries from its own copy in OPFS (worker/own-copy.ts) and write on after
// them; without that copy (its folder deleted too) it must start a new identity rather than
// reuse any key, and write again.
import { expect, test, type Page } from '@playwright/test';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchProfile, openApp } from './fault-kit.js';

async function discardStore(dir: string): Promise<void> {
  const idb = join(dir, 'Default', 'IndexedDB');
  const leveldb = readdirSync(idb).filter((n) => n.endsWith('.indexeddb.leveldb'));
  expect(leveldb).toHaveLength(1);
  writeFileSync(join(idb, leveldb[0]!, 'corruption_info.json'), JSON.stringify({ message: 'test: marked corrupt' }));
}

async function statusOf(page: Page) {
  return page.evaluate(async () => {
    const s = await window.tabula!.status();
    const records = await window.tabula!.records();
    return { author: s.author, storeReset: s.storeReset, ownCopy: s.ownCopy, keys: records.map((r) => r.key).sort() };
  });
}

test('a store the browser discarded comes back from the own copy: same key, own entries, reported', async () => {
  test.setTimeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'tabula-reset-'));
  let ctx = await launchProfile(dir, { offline: true });
  let page = await openApp(ctx);
  for (const k of ['a', 'b', 'c']) await page.evaluate((key) => window.tabula!.put(key, 1), k);
  const before = await statusOf(page);
  // What the copy costs a write, against the store's own commit (printed, not asserted).
  const cost = await page.evaluate(async () => {
    const t = window.tabula!;
    const s0 = await t.status();
    for (let i = 0; i < 200; i++) await t.put(`cost-${i % 2}`, i);
    const s1 = await t.status();
    const groups = s1.ledger.queue!.groups - s0.ledger.queue!.groups;
    const commitMs = s1.ledger.queue!.commitMs - s0.ledger.queue!.commitMs;
    const copyMs = s1.ownCopy.appendMs - s0.ownCopy.appendMs;
    return { groups, appends: s1.ownCopy.appends - s0.ownCopy.appends, commitMs, copyMs };
  });
  console.log(
    `own copy cost over ${cost.groups} sequential write groups: store commit ${(cost.commitMs / cost.groups).toFixed(2)} ms, ` +
      `copy append + flush ${(cost.copyMs / cost.appends).toFixed(2)} ms per group (${(cost.copyMs / cost.commitMs).toFixed(2)}×)`
  );
  expect(cost.appends).toBe(cost.groups);
  expect(before.storeReset).toBeNull();
  expect(before.ownCopy).toMatchObject({ state: 'on', firstSeq: 1, lastSeq: 3, error: null });
  await ctx.close();

  await discardStore(dir);
  ctx = await launchProfile(dir, { offline: true });
  page = await openApp(ctx);
  const after = await statusOf(page);
  expect(after.storeReset).toMatchObject({
    amount: 'total',
    message: expect.stringContaining('test: marked corrupt'),
    restored: { identity: true, entries: 203 }
  });
  expect(after.author).toBe(before.author);
  expect(after.keys).toEqual(['a', 'b', 'c', 'cost-0', 'cost-1']);
  await expect(page.getByTestId('store-reset')).toContainText("Restored from this device's own copy: its key and 203");
  await page.screenshot({ path: test.info().outputPath('store-reset-restored.png') });
  // The feed goes on after the restored entries: no seq signed twice.
  const receipt = await page.evaluate(() => window.tabula!.put('d', 2));
  expect(receipt.seq).toBe(204);
  await ctx.close();

  // A later start still says so (the reset is kept in the new store), and holds all four.
  ctx = await launchProfile(dir, { offline: true });
  page = await openApp(ctx);
  const later = await statusOf(page);
  expect(later.storeReset).toEqual(after.storeReset);
  expect(later.keys).toEqual(['a', 'b', 'c', 'cost-0', 'cost-1', 'd']);
  expect(later.ownCopy).toMatchObject({ state: 'on', lastSeq: 204, restored: null });
  await ctx.close();
});

test('without its own copy, a discarded store starts afresh under a new key and says so', async () => {
  test.setTimeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'tabula-reset-'));
  let ctx = await launchProfile(dir, { offline: true });
  let page = await openApp(ctx);
  await page.evaluate(() => window.tabula!.put('kept?', 1));
  const before = await statusOf(page);
  expect(before.ownCopy.state).toBe('on');
  await ctx.close();

  await discardStore(dir);
  rmSync(join(dir, 'Default', 'File System'), { recursive: true, force: true }); // the copy is gone too
  ctx = await launchProfile(dir, { offline: true });
  page = await openApp(ctx);
  const after = await statusOf(page);
  expect(after.storeReset).toMatchObject({ amount: 'total', message: expect.stringContaining('test: marked corrupt') });
  expect(after.storeReset?.restored).toBeUndefined();
  expect(after.keys).toEqual([]);
  expect(after.author).not.toBe(before.author);
  await expect(page.getByTestId('store-reset')).toContainText('this device now writes under a new key');
  await page.screenshot({ path: test.info().outputPath('store-reset.png') });
  const receipt = await page.evaluate(() => window.tabula!.put('after', 2));
  expect(receipt.seq).toBe(1);
  await ctx.close();
});
