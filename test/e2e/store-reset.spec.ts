// A profile whose IndexedDB the browser discards. Chromium deletes an origin's backing store at
// open when it finds it corrupt, and marks one it found corrupt while running with
// `corruption_info.json` in the store's LevelDB folder, deleting it at the next open. Here that
// marker is written into a closed profile, so real Chromium discards the real store. The node
// must say so (status.storeReset with the browser's reason, an alert on the page), start a new
// identity rather than reuse any key, and write again.
import { expect, test } from '@playwright/test';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchProfile, openApp } from './fault-kit.js';

test('a store the browser discarded at open is reported with its reason, and the node starts afresh', async () => {
  test.setTimeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'tabula-reset-'));
  let ctx = await launchProfile(dir, { offline: true });
  let page = await openApp(ctx);
  const before = await page.evaluate(async () => {
    await window.tabula!.put('kept?', 1);
    const s = await window.tabula!.status();
    return { author: s.author, storeReset: s.storeReset };
  });
  expect(before.storeReset).toBeNull();
  await ctx.close();

  const idb = join(dir, 'Default', 'IndexedDB');
  const leveldb = readdirSync(idb).filter((n) => n.endsWith('.indexeddb.leveldb'));
  expect(leveldb).toHaveLength(1);
  writeFileSync(join(idb, leveldb[0]!, 'corruption_info.json'), JSON.stringify({ message: 'test: marked corrupt' }));

  ctx = await launchProfile(dir, { offline: true });
  page = await openApp(ctx);
  const after = await page.evaluate(async () => {
    const s = await window.tabula!.status();
    return { author: s.author, storeReset: s.storeReset, records: (await window.tabula!.records()).length };
  });
  expect(after.storeReset).toMatchObject({ amount: 'total', message: expect.stringContaining('test: marked corrupt') });
  expect(after.records).toBe(0);
  expect(after.author).not.toBe(before.author);
  await expect(page.getByTestId('store-reset')).toContainText('The browser reset this device');
  await page.screenshot({ path: test.info().outputPath('store-reset.png') });
  // The node writes again, under its new key.
  await page.evaluate(() => window.tabula!.put('after', 2));
  await ctx.close();

  // A later start still says so (the reset is kept in the new store).
  ctx = await launchProfile(dir, { offline: true });
  page = await openApp(ctx);
  const later = await page.evaluate(() => window.tabula!.status().then((s) => s.storeReset));
  expect(later).toEqual(after.storeReset);
  await ctx.close();
});
