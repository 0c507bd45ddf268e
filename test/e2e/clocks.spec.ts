// Clock offsets, lag and sync latency in real browsers (issue 9 point 5): a node alone with the
// relay gets an offset from the relay; two devices on one machine see offsets near 0 (same
// clock), and entries from the other device get a sync latency. Waits for conditions only.
import { expect, test } from '@playwright/test';
import { openDevice, waitForPeer, type Device } from './fixtures.js';
import type { NodeStatus } from '../../src/lib/worker/messages.js';

async function status(d: Device): Promise<NodeStatus> {
  return d.page.evaluate(() => window.tabula!.status());
}

/** Polls status() (clock estimates change without a status push) until `pred` holds. */
async function waitForStatus(d: Device, pred: (s: NodeStatus) => boolean, timeout = 30_000): Promise<NodeStatus> {
  let last: NodeStatus | undefined;
  await expect
    .poll(
      async () => {
        last = await status(d);
        return pred(last);
      },
      { timeout, intervals: [200] }
    )
    .toBe(true);
  return last!;
}

test('offsets near 0 on one machine, lag, and sync latency between two devices', async ({ browser }) => {
  test.setTimeout(120_000);
  const a = await openDevice(browser);
  // Alone with the relay: the relay answers the time protocol.
  const alone = await waitForStatus(
    a,
    (s) => s.clock?.offsetMs != null && s.peers.some((p) => p.relay && p.clockOffsetMs != null)
  );
  expect(Math.abs(alone.clock!.offsetMs!)).toBeLessThanOrEqual(5);
  console.log(`clocks: alone with the relay, offset ${alone.clock!.offsetMs} ± ${alone.clock!.uncertaintyMs} ms`);

  const b = await openDevice(browser);
  await waitForPeer(a, b.peerId);
  await waitForPeer(b, a.peerId);
  for (const [me, other] of [
    [a, b],
    [b, a]
  ] as const) {
    const s = await waitForStatus(me, (st) => st.peers.some((p) => p.id === other.peerId && p.clockOffsetMs != null));
    const peer = s.peers.find((p) => p.id === other.peerId)!;
    console.log(
      `clocks: ${me.peerId.slice(-6)} sees ${other.peerId.slice(-6)} at ${peer.clockOffsetMs} ± ${peer.clockUncertaintyMs} ms`
    );
    // One machine, one clock: the estimate is 0 up to scheduling, and 0 lies within its uncertainty.
    expect(Math.abs(peer.clockOffsetMs!)).toBeLessThanOrEqual(5);
    expect(Math.abs(peer.clockOffsetMs!)).toBeLessThanOrEqual(peer.clockUncertaintyMs!);
    expect(Math.abs(s.clock!.offsetMs!)).toBeLessThanOrEqual(5);
  }

  // A's writes reach B: B's sync latency has samples, and B is not behind afterwards.
  await a.page.evaluate(async () => {
    for (let i = 0; i < 5; i++) await window.tabula!.put(`clock-${i}`, i);
  });
  const got = await waitForStatus(b, (s) => (s.clock?.syncLatency.count ?? 0) >= 5 && s.ledger.entries >= 5);
  const l = got.clock!.syncLatency;
  console.log(`clocks: sync latency at B p50 ${l.p50} ms, p99 ${l.p99} ms over ${l.count} entries`);
  expect(l.p50).not.toBeNull();
  expect(l.p50!).toBeGreaterThanOrEqual(0);
  expect(l.p99!).toBeGreaterThanOrEqual(l.p50!);
  expect(l.p99!).toBeLessThan(10_000);
  const caughtUp = await waitForStatus(b, (s) => s.clock?.lag.entries === 0);
  expect(caughtUp.clock!.lag).toEqual({ entries: 0, ms: 0 });

  // The dashboard shows the offset and the latency (screenshot kept with the test results).
  const dash = await a.context.newPage();
  await dash.goto('/dashboard');
  const summary = dash.getByTestId('clock-summary');
  await expect(summary).toContainText('Clock offset: ', { timeout: 30_000 });
  await expect(summary).not.toContainText('not measured');
  const peers = dash.getByRole('table', { name: 'Peers' });
  await expect(peers.getByRole('columnheader', { name: 'Clock offset' })).toBeVisible();
  await expect(peers.locator(`tr[data-peer="${b.peerId}"] td`).nth(6)).toContainText(' ms ± ', { timeout: 30_000 });
  await b.page.evaluate(() => window.tabula!.put('clock-dash', 1));
  await expect(summary).toContainText('Sync latency: p50 ', { timeout: 30_000 });
  await dash.screenshot({ path: test.info().outputPath('dashboard-clocks.png'), fullPage: true });
  await a.context.close();
  await b.context.close();
});
