// Every tab of one browser profile (one context) is a full client of the profile's single node.
import { expect, test, type Page } from '@playwright/test';
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { openDevice, waitForPeer } from './fixtures.js';
import { ScenarioRecorder, scaled } from '../soak/record.js';

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

test('S7: the leader tab closes mid-write: another tab keeps working within 2 s; one writer, no fork, no acknowledged write lost', async ({
  browser
}) => {
  const cycles = scaled(10, 1);
  test.setTimeout(60_000 + cycles * 30_000);
  const s = new ScenarioRecorder(
    'S7',
    `two tabs of one profile, leader closed mid-write (${cycles} times)`,
    'one writer; 0 forks; takeover within 2 s',
    'browser'
  );
  const a = await openDevice(browser, '/', { offline: true });
  await a.page.waitForFunction(() => window.tabula?.phase === 'running');
  // Both tabs write in a loop; the test hears of every acknowledged write (receipt and time).
  const acked: { key: string; at: number; seq: number; author: string }[] = [];
  const failures: string[] = [];
  await a.context.exposeBinding('ack', (_src, key: string, seq: number, author: string) => {
    acked.push({ key, at: Date.now(), seq, author });
  });
  await a.context.exposeBinding('fail', (_src, why: string) => void failures.push(why));
  const writeLoop = (prefix: string) => {
    const w = window as unknown as {
      ack(k: string, s: number, a: string): Promise<void>;
      fail(e: string): Promise<void>;
    };
    void (async () => {
      for (let i = 0; ; i++) {
        const key = `${prefix}-${i}`;
        try {
          const r = await window.tabula!.put(key, i);
          await w.ack(key, r.seq, r.author);
        } catch (e) {
          await w.fail(`${key}: ${(e as Error).name}: ${(e as Error).message}`);
          return;
        }
      }
    })();
  };
  const count = (prefix: string, after = 0) =>
    acked.filter((x) => x.key.startsWith(`${prefix}-`) && x.at > after).length;
  let leader = a.page;
  const takeovers: number[] = [];
  const gaps: number[] = [];
  for (let cycle = 0; cycle < cycles; cycle++) {
    const second = await a.context.newPage();
    await second.goto('/');
    await second.waitForFunction(() => window.tabula?.phase === 'running');
    expect(await second.evaluate(() => window.tabula!.role)).toBe('follower');
    await leader.evaluate(writeLoop, `leader${cycle}`);
    await second.evaluate(writeLoop, `follower${cycle}`);
    await expect.poll(() => Math.min(count(`leader${cycle}`), count(`follower${cycle}`))).toBeGreaterThanOrEqual(5);

    const closedAt = Date.now();
    await leader.close();
    // A call made right after the close waits for the takeover instead of failing.
    const probeMs = await second.evaluate(async (k) => {
      const t0 = performance.now();
      await window.tabula!.put(k, 'after close');
      return performance.now() - t0;
    }, `probe${cycle}`);
    const probeAt = Date.now();
    await expect.poll(() => count(`follower${cycle}`, probeAt), { timeout: 10_000 }).toBeGreaterThanOrEqual(5);
    // The longest wait between two acknowledged writes of the surviving tab, across the takeover.
    const times = acked.filter((x) => x.key.startsWith(`follower${cycle}-`)).map((x) => x.at);
    const maxGap = Math.max(...times.slice(1).map((t, i) => t - times[i]!));
    console.log(
      `takeover ${cycle + 1}/${cycles}: put() called after the leader tab closed answered in ${Math.round(probeMs)} ms ` +
        `(${probeAt - closedAt} ms after the close began); longest gap between the other tab's acknowledged writes ${maxGap} ms`
    );
    takeovers.push(probeAt - closedAt);
    gaps.push(maxGap);
    expect(await second.evaluate(() => window.tabula!.role)).toBe('leader');
    leader = second;
  }

  // Every acknowledged write, from any tab, is in the node; and stays there across a reload.
  const ackedKeys = acked.map((x) => x.key);
  const present = async () => new Set((await leader.evaluate(() => window.tabula!.records())).map((r) => r.key));
  const missing = (keys: Set<string>) => ackedKeys.filter((k) => !keys.has(k));
  const lostBefore = missing(await present()).length;
  await leader.reload();
  await leader.waitForFunction(() => window.tabula?.phase === 'running');
  const lost = Math.max(lostBefore, missing(await present()).length);
  const feeds = await leader.evaluate(() => window.tabula!.feeds());
  const seqs = new Set(acked.map((x) => x.seq));
  const authors = new Set(acked.map((x) => x.author));
  s.figure('takeovers', takeovers.length)
    .figure('worst_takeover_ms', Math.max(...takeovers))
    .figure('worst_write_gap_ms', Math.max(...gaps))
    .figure('acked_writes', acked.length)
    .figure('lost', lost)
    .figure('forked_feeds', feeds.filter((f) => f.forked).length);
  s.check(`${cycles} takeovers done`, takeovers.length === cycles, `${takeovers.length}`);
  s.check(
    'takeover within 2 s',
    Math.max(...takeovers, ...gaps) < TAKEOVER_BOUND_MS,
    `close→answer ${takeovers.join(',')} ms; gaps ${gaps.join(',')} ms`
  );
  s.check(
    'one writer: one author, every acknowledged seq distinct',
    authors.size === 1 && seqs.size === acked.length,
    `${authors.size} authors, ${acked.length - seqs.size} seqs used twice`
  );
  s.check(
    '0 forks',
    feeds.every((f) => !f.forked) && feeds.length === 1,
    `${feeds.filter((f) => f.forked).length} forked of ${feeds.length}`
  );
  s.check(
    'no acknowledged write lost, no call failed',
    lost === 0 && failures.length === 0,
    `${lost} lost; ${failures.slice(0, 2).join('; ')}`
  );
  s.save();
  expect(s.failures()).toEqual([]);
  await a.context.close();
});
