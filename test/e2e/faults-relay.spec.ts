// Fault suite S2 (issue 12): the relay dies (SIGKILL of its process group, by PID) while 4 tabs
// (devices) are linked directly over WebRTC. Writes keep reaching every tab over the direct links
// while it is down; it restarts on the same ports with the same data dir (same PeerId), and
// every tab must be connected to it again, with a reservation, within 30 s. This test runs its
// own relay, not the config's web server, so it may kill it. SOAK=1: 4 tabs; CI: 2.
import { expect, test, type Browser, type Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './fault-kit.js';
import { type Device } from './fixtures.js';
import { ScenarioRecorder, scaled } from '../soak/record.js';

const HTTP_PORT = Number(process.env.SOAK_RELAY_HTTP_PORT ?? 18280);
const RELAY_PORT = Number(process.env.SOAK_RELAY_PORT ?? 19290);
const ORIGIN = `http://127.0.0.1:${HTTP_PORT}`;
const TABS = scaled(4, 2);
const DOWN_MS = 10_000;
const REJOIN_BOUND_MS = 30_000;
/** How long a write may take to reach every other tab over the direct links, ms. */
const SPREAD_BOUND_MS = 10_000;

class RelayProcess {
  child: ChildProcess | null = null;
  constructor(readonly dataDir: string) {}

  async start(): Promise<void> {
    this.child = spawn(
      'npx',
      ['tsx', 'relay/main.ts', '--port', `${HTTP_PORT}`, '--relay-port', `${RELAY_PORT}`, '--data-dir', this.dataDir],
      { detached: true, stdio: 'ignore' }
    );
    const ready = await waitFor(
      () =>
        fetch(`${ORIGIN}/healthz`).then(
          (r) => r.ok,
          () => false
        ),
      60_000,
      200
    );
    if (ready === null) throw new Error('the relay did not start');
  }

  /** A crash: SIGKILL to the relay's whole process group (npx, tsx, node). */
  async kill(): Promise<void> {
    const child = this.child;
    if (child?.pid === undefined || child.exitCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    process.kill(-child.pid, 'SIGKILL');
    await gone;
    this.child = null;
  }
}

async function openTab(browser: Browser): Promise<Device> {
  const context = await browser.newContext({ baseURL: ORIGIN });
  await context.grantPermissions(['microphone']);
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
  await page.goto('/');
  await page.waitForFunction(() => window.tabula?.lastStatus?.peerId !== undefined);
  return { context, page, peerId: await page.evaluate(() => window.tabula!.lastStatus!.peerId) };
}

/** Connected to the relay, with a reservation (a circuit address), per the node's status. */
function relayJoined(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const s = window.tabula?.lastStatus;
    return !!s && s.relays.some((r) => r.connected) && s.addrs.some((a) => a.includes('/p2p-circuit'));
  });
}

function directPeers(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    (window.tabula?.lastStatus?.peers ?? []).filter((p) => p.transport === 'webrtc').map((p) => p.id)
  );
}

/** Writes one key in each tab; ms until every tab holds every key (null: not within the bound). */
async function spreadAll(tabs: Device[], tag: string): Promise<number | null> {
  const t0 = Date.now();
  await Promise.all(tabs.map((d, i) => d.page.evaluate((k) => window.tabula!.put(k, 'x'), `${tag}-${i}`)));
  const keys = tabs.map((_, i) => `${tag}-${i}`);
  const ms = await waitFor(
    async () =>
      (
        await Promise.all(
          tabs.map((d) => d.page.evaluate((ks) => Promise.all(ks.map((k) => window.tabula!.get(k))), keys))
        )
      ).every((vals) => vals.every((v) => v === 'x')),
    SPREAD_BOUND_MS,
    100
  );
  return ms === null ? null : Date.now() - t0;
}

test('S2: relay down for 10 s: direct links keep syncing; every tab rejoins the restarted relay within 30 s', async ({
  browser
}) => {
  test.setTimeout(scaled(300_000, 180_000));
  const s = new ScenarioRecorder(
    'S2',
    `relay down for 10 s with ${TABS} tabs`,
    "direct links keep syncing; rejoin within 30 s of the relay's return",
    'browser'
  );
  const relay = new RelayProcess(mkdtempSync(join(tmpdir(), 'tabula-relay-s2-')));
  await relay.start();
  const tabs: Device[] = [];
  try {
    for (let i = 0; i < TABS; i++) tabs.push(await openTab(browser));
    const meshed = await waitFor(
      async () => (await Promise.all(tabs.map((d) => directPeers(d.page)))).every((ps) => ps.length >= TABS - 1),
      60_000,
      200
    );
    s.figure('mesh_ms', meshed);
    s.check(`${TABS} tabs linked directly (WebRTC) before the relay dies`, meshed !== null);
    const before = await spreadAll(tabs, 'before');

    const downAt = Date.now();
    await relay.kill();
    const down: (number | null)[] = [];
    // While it is down: rounds of writes, each reaching every tab over the direct links.
    for (let round = 0; Date.now() - downAt < DOWN_MS - 1000; round++) down.push(await spreadAll(tabs, `down${round}`));
    const linksDuring = await Promise.all(tabs.map((d) => directPeers(d.page)));
    await waitFor(() => Date.now() - downAt >= DOWN_MS, DOWN_MS + 1000, 50);
    const downMs = Date.now() - downAt;
    await relay.start();
    const rejoin = await waitFor(
      async () => (await Promise.all(tabs.map((d) => relayJoined(d.page)))).every(Boolean),
      REJOIN_BOUND_MS + 30_000,
      200
    );
    const after = await spreadAll(tabs, 'after');
    const rejoinMs = rejoin;
    s.figure('tabs', TABS)
      .figure('relay_down_ms', downMs)
      .figure('spread_before_ms', before)
      .figure('write_rounds_while_down', down.length)
      .figure('worst_spread_while_down_ms', down.includes(null) ? null : Math.max(...(down as number[])))
      .figure('rejoin_after_return_ms', rejoinMs)
      .figure('spread_after_ms', after);
    s.check(
      'direct links keep syncing while the relay is down (every write on every tab)',
      down.length > 0 && !down.includes(null) && linksDuring.every((ps) => ps.length >= TABS - 1),
      `rounds ${down.map((x) => x ?? 'TIMEOUT').join(',')} ms; direct peers ${linksDuring.map((p) => p.length).join(',')}`
    );
    s.check(
      "every tab rejoins (relay connection + reservation) within 30 s of the relay's return",
      rejoinMs !== null && rejoinMs <= REJOIN_BOUND_MS,
      `${rejoinMs} ms`
    );
    s.check('writes spread before and after', before !== null && after !== null, `${before} / ${after} ms`);
  } finally {
    s.save();
    for (const d of tabs) await d.context.close();
    await relay.kill();
  }
  expect(s.failures()).toEqual([]);
});
