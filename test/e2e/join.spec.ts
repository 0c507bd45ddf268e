// Verified join in the browser (the default for a light replica; `?join=0` opts out, `?role=full`
// never joins): a fresh device loads the state of a peer from a join snapshot instead of
// replaying its entries, shows progress in status().join, is marked unverified (one peer asked:
// the plain relay does not serve join), then tails live entries both ways through sync and
// gossip, its own writes included. Fresh devices with nothing to join fall back to sync at once.
// With an archive relay and two devices holding the same state, a joining device shows the state
// and its progress and ends verified (3 distinct keys agree). Waits for conditions, never sleeps.
//
// JOIN_E2E_RECORDS sets the size of the first test's network (default 2,000 in `npm test`);
// JOIN_E2E_VERIFIED_RECORDS the verified one's (default 10,000, as issue 9 asks).
import { expect, test, type Page } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDevice, waitForPeer } from './fixtures.js';
import { spawnRelay, type RelayProcess } from '../helpers/relay-process.js';

const RECORDS = Number(process.env.JOIN_E2E_RECORDS ?? 2_000);
/**
 * The verified join's network: issue 9's 10,000 entries. Until 2026-12-01 a writer that had just
 * written its burst was graylisted at the relay (its gossip over the relay's per-peer rate), so
 * the joiner's links formed 42-60 s late and the third device was never asked within 60 s.
 */
const VERIFIED_RECORDS = Number(process.env.JOIN_E2E_VERIFIED_RECORDS ?? 10_000);
/** The driver's JOIN_WAIT_MS: a fresh node replays after this without a join, whatever happens. */
const JOIN_WAIT_MS = 15_000;

/** Writes `n` records `r<i>` = i from the page, `par` puts in flight (group commit). */
async function writeRecords(page: Page, n: number, par = 200): Promise<void> {
  await page.evaluate(
    async ([count, p]) => {
      for (let i = 0; i < count; i += p) {
        await Promise.all(
          Array.from({ length: Math.min(p, count - i) }, (_, j) => window.tabula!.put(`r${i + j}`, i + j))
        );
      }
    },
    [n, par] as const
  );
}

test(`a fresh device joins a network of ${RECORDS} entries from a peer snapshot, shows progress, then tails live entries`, async ({
  browser
}) => {
  test.setTimeout(120_000 + RECORDS * 30);
  const a = await openDevice(browser, '/');
  const w0 = Date.now();
  await writeRecords(a.page, RECORDS);
  console.log(`join e2e: ${RECORDS} writes on A took ${Date.now() - w0} ms`);

  const t0 = Date.now();
  const b = await openDevice(browser, '/');
  // Every join status B pushes, to see progress part-way.
  await b.page.evaluate(() => {
    const w = window as unknown as { joinSeen: { state: string; bytes: number; totalBytes: number; at: number }[] };
    w.joinSeen = [];
    window.tabula!.subscribe((ev) => {
      if (ev.type === 'status' && ev.status.join) w.joinSeen.push({ ...ev.status.join, at: Date.now() });
    });
  });
  await waitForPeer(b, a.peerId, 'webrtc', 60_000);
  const tPeer = Date.now();
  await b.page
    .waitForFunction(
      () => ['verified', 'unverified'].includes(window.tabula?.lastStatus?.join?.state ?? ''),
      undefined,
      {
        timeout: 60_000,
        polling: 50
      }
    )
    .catch(async (err: unknown) => {
      const [sa, sb] = await Promise.all([a, b].map((d) => d.page.evaluate(() => window.tabula!.status())));
      console.log(
        `join did not install: B ${JSON.stringify(sb.join)} ${JSON.stringify(sb.sync)}; A ${JSON.stringify(sa.join)}`
      );
      throw err;
    });
  const tJoined = Date.now();
  const visible = await b.page.evaluate((n) => window.tabula!.get(`r${n - 1}`), RECORDS);
  const tVisible = Date.now();
  const st = await b.page.evaluate(() => window.tabula!.status());
  const seen = await b.page.evaluate(
    () =>
      (window as unknown as { joinSeen: { state: string; bytes: number; totalBytes: number; at: number }[] }).joinSeen
  );
  const tPeerPage = await b.page.evaluate(() => Date.now());
  const phases = seen.map((j) => `${j.state}:${j.bytes}@${j.at - tPeerPage}`).join(' ');
  console.log(`join e2e: join statuses (ms relative to now): ${phases}`);
  console.log(
    `join e2e: ${RECORDS} entries, snapshot ${st.join?.totalBytes} B: state visible ${tVisible - tPeer} ms after the ` +
      `first WebRTC peer (joined at ${tJoined - tPeer} ms; ${tVisible - t0} ms from page open, link ${tPeer - t0} ms); ` +
      `${seen.length} join statuses pushed: ${JSON.stringify(st.join)}`
  );
  expect(visible).toBe(RECORDS - 1);
  expect(st.join).toMatchObject({ state: 'unverified', verified: false, peersAsked: 1, agreeing: 1, entries: RECORDS });
  expect(st.join!.bytes).toBe(st.join!.totalBytes);
  expect(st.join!.bytes).toBeGreaterThan(0);
  expect(st.ledger.unverified).toBe(true);
  expect(st.ledger.entries).toBe(RECORDS);
  // B holds the state and the heads, not A's history: it did not replay.
  expect(st.sync.peers.find((p) => p.peer === a.peerId)?.entriesIn ?? 0).toBeLessThan(RECORDS);
  // Progress (bytes of totalBytes) is in status().join; the pushed statuses are logged above. On
  // loopback the download ends, and the synchronous verification starts, before a throttled
  // status push can run, so a 'fetching' push is not reliably seen here: the simulation
  // (test/sim/join.test.ts) checks part-way progress.
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

  // `?join=0` and a full replica replay entries as before and report the join off.
  const c = await openDevice(browser, '/?join=0');
  expect(await c.page.evaluate(() => window.tabula!.status().then((s) => s.join?.state))).toBe('off');
  const f = await openDevice(browser, '/?role=full');
  expect(await f.page.evaluate(() => window.tabula!.status().then((s) => [s.role, s.join?.state]))).toEqual([
    'full',
    'off'
  ]);
  await Promise.all([a, b, c, f].map((d) => d.context.close()));
});

test('fresh devices with nothing to join fall back to sync as soon as their peer answers, not after the wait', async ({
  browser
}) => {
  const a = await openDevice(browser, '/');
  const b = await openDevice(browser, '/');
  await Promise.all([waitForPeer(a, b.peerId), waitForPeer(b, a.peerId)]);
  const tPeer = Date.now();
  // Each asks the other, which holds nothing: the join ends ('gave-up', asked 1) without a timer.
  for (const d of [a, b]) {
    await d.page.waitForFunction(() => window.tabula?.lastStatus?.join?.state === 'gave-up', undefined, {
      timeout: JOIN_WAIT_MS * 2,
      polling: 50
    });
  }
  const gaveUpMs = Date.now() - tPeer;
  const js = await Promise.all([a, b].map((d) => d.page.evaluate(() => window.tabula!.status().then((s) => s.join!))));
  console.log(`join e2e (nothing to join): both gave up ${gaveUpMs} ms after the link: ${JSON.stringify(js)}`);
  for (const j of js)
    expect(j).toMatchObject({ peersAsked: 1, agreeing: 0, lastError: 'no peer asked holds a state to join' });
  await a.page.evaluate(() => window.tabula!.put('hello', 'from a'));
  await expect.poll(() => b.page.evaluate(() => window.tabula!.get('hello')), { timeout: 30_000 }).toBe('from a');
  expect(await b.page.evaluate(() => window.tabula!.status().then((s) => s.ledger.unverified))).toBe(false);
  await Promise.all([a, b].map((d) => d.context.close()));
});

let relay: RelayProcess | undefined;

test.afterEach(async () => {
  if (relay && relay.child.exitCode === null && relay.child.signalCode === null) relay.child.kill('SIGTERM');
  await relay?.exited;
  relay = undefined;
});

test(`with an archive relay and two devices in step, a joining device is verified by 3 keys (${VERIFIED_RECORDS} entries)`, async ({
  browser
}) => {
  test.setTimeout(120_000 + VERIFIED_RECORDS * 30);
  const dataDir = mkdtempSync(join(tmpdir(), 'tabula-e2e-join-'));
  relay = await spawnRelay(['--archive', '--data-dir', dataDir, '--static-dir', 'build']);
  const url = relay.url;
  const writer = await openDevice(browser, `${url}/`);
  await writer.page.waitForFunction(() => window.tabula?.lastStatus?.online === true, null, { timeout: 30_000 });
  await writeRecords(writer.page, VERIFIED_RECORDS);
  // The reader replays (`?join=0`): a device that joined holds no head entries of its own to serve a join.
  const reader = await openDevice(browser, `${url}/?join=0`);
  const root = () => writer.page.evaluate(() => window.tabula!.status().then((s) => s.sync.root));
  await expect
    .poll(
      async () => {
        const archive = (await (await fetch(`${url}/api/archive`)).json()) as { headsRoot: string };
        const r = await reader.page.evaluate(() => window.tabula!.status().then((s) => s.sync.root));
        const w = await root();
        return archive.headsRoot === w && r === w;
      },
      { timeout: 60_000 + VERIFIED_RECORDS * 10 }
    )
    .toBe(true);

  const t0 = Date.now();
  const joiner = await openDevice(browser, `${url}/`);
  // A re-verified join says so at once; the ledger records it (markVerified) a moment later.
  await joiner.page
    .waitForFunction(
      () => window.tabula?.lastStatus?.join?.verified === true && window.tabula.lastStatus.ledger.unverified === false,
      null,
      { timeout: 60_000, polling: 50 }
    )
    .catch(async (err: unknown) => {
      const j = await joiner.page.evaluate(() => window.tabula!.status().then((s) => s.join));
      console.log(`join not verified: ${JSON.stringify(j)}`);
      throw err;
    });
  const st = await joiner.page.evaluate(() => window.tabula!.status());
  console.log(
    `join e2e (archive + 2 devices): verified ${Date.now() - t0} ms after opening: ${JSON.stringify(st.join)}`
  );
  // The state shows, its progress reached the whole snapshot, and it is verified by a quorum.
  expect(st.join).toMatchObject({ state: 'verified', verified: true, entries: VERIFIED_RECORDS });
  expect(st.join!.bytes).toBe(st.join!.totalBytes);
  expect(st.join!.bytes).toBeGreaterThan(0);
  expect(await joiner.page.evaluate((n) => window.tabula!.get(`r${n - 1}`), VERIFIED_RECORDS)).toBe(
    VERIFIED_RECORDS - 1
  );
  expect(st.join!.agreeing).toBeGreaterThanOrEqual(2);
  expect(st.join!.peersAsked).toBeGreaterThanOrEqual(3);
  expect(st.ledger.unverified).toBe(false);
  expect(await joiner.page.evaluate(() => window.tabula!.records().then((r) => r.length))).toBe(VERIFIED_RECORDS);
  await Promise.all([writer, reader, joiner].map((d) => d.context.close()));
});
