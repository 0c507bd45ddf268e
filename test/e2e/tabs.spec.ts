// Every tab of one browser profile (one context) is a full client of the profile's single node.
import { expect, test, type Page } from '@playwright/test';
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { openDevice, waitForPeer } from './fixtures.js';

/** The leading tab closes: another tab must answer calls again within this, ms (issue 8). */
const TAKEOVER_BOUND_MS = 2000;

function row(page: Page, key: string) {
  return page.getByRole('table', { name: 'Records' }).locator(`tr[data-key="${key}"]`);
}

test('with / open, a second tab opens /dashboard: same node, peers, records and conflicts; its write reaches another device', async ({
  browser
}, testInfo) => {
  const a = await openDevice(browser, '/');
  const other = await openDevice(browser, '/');
  await waitForPeer(a, other.peerId);
  await a.page.evaluate(() => window.tabula!.put('from-first-tab', 'hello'));

  const dash = await a.context.newPage();
  dash.on('pageerror', (err) => console.error(`[dashboard error] ${err.message}`));
  await dash.goto('/dashboard');
  await dash.waitForFunction(() => window.tabula?.phase === 'running');
  expect(await a.page.evaluate(() => window.tabula!.role)).toBe('leader');
  expect(await dash.evaluate(() => window.tabula!.role)).toBe('follower');
  // One identity: the dashboard tab talks to the first tab's node.
  const status = await dash.evaluate(() => window.tabula!.status());
  expect(status.peerId).toBe(a.peerId);
  await expect(dash.getByRole('status')).toContainText('Online');
  await expect(dash.getByRole('table', { name: 'Peers' }).locator(`tr[data-peer="${other.peerId}"]`)).toContainText(
    'webrtc'
  );
  expect((await dash.evaluate(() => window.tabula!.records())).map((r) => r.key)).toContain('from-first-tab');
  await expect(dash.getByRole('table', { name: 'Feeds' })).toContainText(status.author.slice(0, 16));

  // A write from the second tab: live in the first tab, and on the other device.
  const receipt = await dash.evaluate(() => window.tabula!.put('from-second-tab', { by: 'dashboard' }));
  expect(receipt.author).toBe(status.author);
  await expect(row(a.page, 'from-second-tab')).toContainText('dashboard');
  await expect(row(other.page, 'from-second-tab')).toContainText('dashboard', { timeout: 30_000 });

  // Export through the second tab's button: the snapshot's bytes cross from the leader tab.
  const download = dash.waitForEvent('download');
  await dash.getByRole('button', { name: 'Export snapshot' }).click();
  const file = await download;
  const lines = gunzipSync(readFileSync((await file.path())!))
    .toString('utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { t: string });
  expect(lines[0]).toMatchObject({ t: 'header', kind: 'full' });
  expect(lines.filter((l) => l.t === 'entry').length).toBeGreaterThanOrEqual(2);
  // A conflict, made deterministic: an offline device writes the same key, and its snapshot goes
  // in through the second tab's file input (bytes from this tab to the leader's node).
  const offline = await openDevice(browser, '/', { offline: true });
  await offline.page.waitForFunction(() => window.tabula?.phase === 'running');
  await offline.page.evaluate(() => window.tabula!.put('contested', 'offline device'));
  await a.page.evaluate(() => window.tabula!.put('contested', 'first tab'));
  const snapshot = await offline.page.evaluate(async () => Array.from((await window.tabula!.exportSnapshot()).bytes));
  const snapPath = testInfo.outputPath('offline-device.snapshot.gz');
  writeFileSync(snapPath, Uint8Array.from(snapshot));
  await dash.getByLabel('Import snapshot').setInputFiles(snapPath);
  await expect(dash.getByTestId('import-report')).toHaveText(/added 1, skipped 0, rejected 0/);
  const conflictRow = dash.getByRole('table', { name: 'Conflicts' }).getByRole('row', { name: /contested/ });
  await expect(conflictRow).toBeVisible();
  // Both values are shown: the one kept and the one it overwrote.
  await expect(conflictRow).toContainText('"offline device"');
  await expect(conflictRow).toContainText('"first tab"');
  await offline.context.close();

  const shot = testInfo.outputPath('second-tab-dashboard.png');
  await dash.screenshot({ path: shot, fullPage: true });
  console.log(`screenshot: ${shot}`);
  await a.context.close();
  await other.context.close();
});

test('the leader tab closes mid-write: another tab keeps working within 2 s and no acknowledged write is lost', async ({
  browser
}) => {
  const a = await openDevice(browser, '/', { offline: true });
  await a.page.waitForFunction(() => window.tabula?.phase === 'running');
  const second = await a.context.newPage();
  await second.goto('/');
  await second.waitForFunction(() => window.tabula?.phase === 'running');
  expect(await second.evaluate(() => window.tabula!.role)).toBe('follower');

  // Both tabs write in a loop; the test hears of every acknowledged write, with its time.
  const acked: { key: string; at: number }[] = [];
  const failures: string[] = [];
  for (const page of [a.page, second]) {
    await page.exposeFunction('ack', (key: string) => void acked.push({ key, at: Date.now() }));
    await page.exposeFunction('fail', (why: string) => void failures.push(why));
  }
  const writeLoop = (prefix: string) => {
    const w = window as unknown as { ack(k: string): Promise<void>; fail(e: string): Promise<void> };
    void (async () => {
      for (let i = 0; ; i++) {
        const key = `${prefix}-${i}`;
        try {
          await window.tabula!.put(key, i);
          await w.ack(key);
        } catch (e) {
          await w.fail(`${key}: ${(e as Error).name}: ${(e as Error).message}`);
          return;
        }
      }
    })();
  };
  await a.page.evaluate(writeLoop, 'leader');
  await second.evaluate(writeLoop, 'follower');
  const count = (prefix: string, after = 0) =>
    acked.filter((x) => x.key.startsWith(`${prefix}-`) && x.at > after).length;
  await expect.poll(() => Math.min(count('leader'), count('follower'))).toBeGreaterThanOrEqual(5);

  const closedAt = Date.now();
  await a.page.close();
  // A call made right after the close waits for the takeover instead of failing.
  const probeMs = await second.evaluate(async () => {
    const t0 = performance.now();
    await window.tabula!.put('probe', 'after close');
    return performance.now() - t0;
  });
  const probeAt = Date.now();
  await expect.poll(() => count('follower', probeAt), { timeout: 10_000 }).toBeGreaterThanOrEqual(5);
  // The longest wait between two acknowledged writes of the surviving tab, across the takeover.
  const times = acked.filter((x) => x.key.startsWith('follower-')).map((x) => x.at);
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  const maxGap = Math.max(...gaps);
  console.log(
    `takeover: put() called after the leader tab closed answered in ${Math.round(probeMs)} ms ` +
      `(${probeAt - closedAt} ms after the close began); longest gap between the other tab's acknowledged writes ${maxGap} ms`
  );
  expect(probeAt - closedAt).toBeLessThan(TAKEOVER_BOUND_MS);
  expect(maxGap).toBeLessThan(TAKEOVER_BOUND_MS);
  expect(failures).toEqual([]);
  expect(await second.evaluate(() => window.tabula!.role)).toBe('leader');

  // Every acknowledged write, from either tab, is in the node; and stays there across a reload.
  const ackedKeys = acked.map((x) => x.key);
  const present = async () => new Set((await second.evaluate(() => window.tabula!.records())).map((r) => r.key));
  const missing = (keys: Set<string>) => ackedKeys.filter((k) => !keys.has(k));
  expect(missing(await present())).toEqual([]);
  await second.reload();
  await second.waitForFunction(() => window.tabula?.phase === 'running');
  expect(missing(await present())).toEqual([]);
  await a.context.close();
});
