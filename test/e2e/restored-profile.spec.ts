// A device whose profile is restored from an older copy (a backup) reopens with its own feed
// shorter than its peers hold. Its first write must wait until a peer's comparison brought the
// later entries back (the own-feed check, core/own-feed-check.ts); writing at once would sign a
// seq it already signed and fork its own feed, void on every node. The copy's "alive" mark is set
// back an hour (as a copy restored later would carry) through a blank page of the same origin.
import { expect, test, type BrowserContext } from '@playwright/test';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { openDevice, waitForPeer } from './fixtures.js';
import { launchProfile, openApp } from './fault-kit.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.js';

/** Sets the store's ALIVE_META back by `agoMs`, without starting the app (service workers blocked). */
async function ageAliveMark(dir: string, dbName: string, agoMs: number): Promise<void> {
  const ctx: BrowserContext = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    baseURL: test.info().project.use.baseURL,
    serviceWorkers: 'block'
  });
  await ctx.route('**/blank', (r) =>
    r.fulfill({ body: '<!doctype html><title>blank</title>', contentType: 'text/html' })
  );
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  await page.goto('/blank');
  await page.evaluate(
    ([name, ago]) =>
      new Promise<void>((resolve, reject) => {
        const req = indexedDB.open(name);
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const tx = req.result.transaction('meta', 'readwrite');
          tx.objectStore('meta').put({ key: 'aliveAt', value: Date.now() - ago });
          tx.oncomplete = () => (req.result.close(), resolve());
          tx.onerror = () => reject(tx.error);
        };
      }),
    [dbName, agoMs] as const
  );
  await ctx.close();
}

test('a device reopened from an older copy of its profile writes at once without forking its feed', async ({
  browser
}) => {
  test.setTimeout(180_000);
  const a = await openDevice(browser);
  const dir = mkdtempSync(join(tmpdir(), 'tabula-restored-'));
  const backup = `${dir}.backup`;
  const session = async (from: number, to: number) => {
    const ctx = await launchProfile(dir);
    const page = await openApp(ctx);
    const me = await page.evaluate(() => window.tabula!.status());
    await waitForPeer(a, me.peerId);
    await page.evaluate(
      ([i, j]) => Promise.all(Array.from({ length: j - i }, (_, k) => window.tabula!.put(`r${i + k}`, i + k))),
      [from, to] as const
    );
    const last = `r${to - 1}`;
    await expect.poll(() => a.page.evaluate((key) => window.tabula!.get(key), last), { timeout: 60_000 }).toBe(to - 1);
    await ctx.close();
    return me;
  };
  const me = await session(0, 5);
  cpSync(dir, backup, { recursive: true });
  await session(5, 10);
  // The backup comes back, as if restored an hour after it was made.
  rmSync(dir, { recursive: true, force: true });
  cpSync(backup, dir, { recursive: true });
  await ageAliveMark(dir, `tabula-${me.networkId}`, 3_600_000);

  const ctx = await launchProfile(dir);
  const page = await openApp(ctx);
  const opened = await page.evaluate(() => window.tabula!.status());
  expect(opened.author).toBe(me.author);
  expect(opened.ownFeedCheck).toBe('holding');
  await expect(page.getByText("checking this device's earlier writes with peers")).toBeVisible();
  await page.screenshot({ path: test.info().outputPath('holding.png') });
  // Written at once: held until a peer's comparison brought r5..r9 back, then signed after them.
  const t0 = Date.now();
  const receipt = await page.evaluate(() => window.tabula!.put('after-restore', 'new'));
  const after = await page.evaluate(() => window.tabula!.status());
  console.log(
    `restored write: seq ${receipt.seq} after ${Date.now() - t0} ms; check ${after.ownFeedCheck}; peers ${after.peers.map((p) => `${p.id.slice(-6)}:${p.transport}`).join(',')}; networkError ${after.networkError}`
  );
  expect(receipt.seq).toBe(11);
  expect(await page.evaluate(() => window.tabula!.status().then((s) => s.ownFeedCheck))).toBe('compared');
  await expect.poll(() => a.page.evaluate(() => window.tabula!.get('after-restore')), { timeout: 60_000 }).toBe('new');
  const feed = await a.page.evaluate(
    (author) => window.tabula!.feeds().then((f) => f.find((x) => x.author === author)),
    me.author
  );
  expect(feed).toMatchObject({ seq: 11, forked: false });
  expect(await a.page.evaluate(() => window.tabula!.get('r7'))).toBe(7);
  await ctx.close();
  await a.context.close();
});
