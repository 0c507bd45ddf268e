// Verified join in the browser (opt-in `?join=1`): a fresh device loads the state of a peer from
// a join snapshot instead of replaying its entries, shows progress in status().join, is marked
// unverified (one peer asked: the plain relay does not serve join), then tails live entries both
// ways through sync and gossip, its own writes included. With an archive relay and two devices
// holding the same state, a joining device ends verified (3 distinct keys agree). Waits for
// conditions, never sleeps.
import { expect, test } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDevice, waitForPeer } from './fixtures.js';
import { spawnRelay, type RelayProcess } from '../helpers/relay-process.js';

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

let relay: RelayProcess | undefined;

test.afterEach(async () => {
  if (relay && relay.child.exitCode === null && relay.child.signalCode === null) relay.child.kill('SIGTERM');
  await relay?.exited;
  relay = undefined;
});

test('with an archive relay and two devices in step, a joining device is verified by 3 keys', async ({ browser }) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tabula-e2e-join-'));
  relay = await spawnRelay(['--archive', '--data-dir', dataDir, '--static-dir', 'build']);
  const url = relay.url;
  const writer = await openDevice(browser, `${url}/`);
  await writer.page.waitForFunction(() => window.tabula?.lastStatus?.online === true, null, { timeout: 30_000 });
  await writer.page.evaluate(async (n) => {
    for (let i = 0; i < n; i += 20) {
      await Promise.all(Array.from({ length: Math.min(20, n - i) }, (_, j) => window.tabula!.put(`k${i + j}`, i + j)));
    }
  }, 100);
  const reader = await openDevice(browser, `${url}/`);
  const root = () => writer.page.evaluate(() => window.tabula!.status().then((s) => s.sync.root));
  await expect
    .poll(
      async () => {
        const archive = (await (await fetch(`${url}/api/archive`)).json()) as { headsRoot: string };
        const r = await reader.page.evaluate(() => window.tabula!.status().then((s) => s.sync.root));
        const w = await root();
        return archive.headsRoot === w && r === w;
      },
      { timeout: 60_000 }
    )
    .toBe(true);

  const t0 = Date.now();
  const joiner = await openDevice(browser, `${url}/?join=1`);
  await joiner.page.waitForFunction(() => window.tabula?.lastStatus?.join?.verified === true, null, {
    timeout: 60_000,
    polling: 50
  });
  const st = await joiner.page.evaluate(() => window.tabula!.status());
  console.log(
    `join e2e (archive + 2 devices): verified ${Date.now() - t0} ms after opening: ${JSON.stringify(st.join)}`
  );
  expect(st.join).toMatchObject({ state: 'verified', verified: true, entries: 100 });
  expect(st.join!.agreeing).toBeGreaterThanOrEqual(2);
  expect(st.join!.peersAsked).toBeGreaterThanOrEqual(3);
  expect(st.ledger.unverified).toBe(false);
  expect(await joiner.page.evaluate(() => window.tabula!.records().then((r) => r.length))).toBe(100);
  await Promise.all([writer, reader, joiner].map((d) => d.context.close()));
});
