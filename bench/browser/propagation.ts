// Row 1 of issue 11: propagation latency, from the commit in one tab until the write is applied
// in every other tab, with 2, 4 and 8 devices (each its own browser and profile, so its own node
// and IndexedDB on disk), every device writing 5 times a second. Tabula is the built app served
// by a real relay (writes through window.tabula.put: signed, persisted, gossiped, verified,
// persisted, applied). The comparator, in the same tabs and run, is a Yjs document shared
// through y-webrtc and its own signalling server (bin/server.js of the y-webrtc package), no ICE
// servers, loopback only. The two systems take rounds in the order Tabula, y-webrtc, y-webrtc,
// Tabula, so a drift in the machine's load hits both alike.
// Latency = applied here − committed there, on the pages' clocks (performance.timeOrigin +
// performance.now()), each corrected by its offset to the system clock, which every browser on
// this machine shares (read where Date.now() steps; the offsets are printed).
// Each tab count is a row of its own (bench/browser/rows.ts): one that throws or runs over its
// time is NOT RUN (in the results' notRun), its browsers closed. Deliveries that never arrive are
// counted and taken as +Infinity in the percentiles (bench/browser/latency.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../test/e2e/chromium.js';
import { openApp } from './app-writes.js';
import { routeBench } from './bench-route.js';
import type { Applied, System } from './propagation-page.js';
import {
  YWEBRTC,
  formatLatency,
  latencyFailures,
  latencyRows,
  tabCountRows,
  type Row1Workload,
  type RoundLatencies
} from './latency.js';
import type { Row, RowRunner } from './rows.js';
import { quantile } from './stats.js';
import { WorkerCdp, pageProfiler, topSelf, topTotal } from './worker-cdp.js';

const SIGNALING_PORT = Number(process.env.BENCH_SIGNALING_PORT ?? 18395);
const WRITES_PER_SEC = 5;
/** Seconds of writing per round; two rounds per system (BENCH_SCALE multiplies). */
const ROUND_SECONDS = Number(process.env.BENCH_PROPAGATION_SECONDS ?? 10);
const PAD_BYTES = 200;
const CONNECT_TIMEOUT_MS = Number(process.env.BENCH_CONNECT_TIMEOUT_MS ?? 90_000);
const DRAIN_TIMEOUT_MS = 20_000;
const ROUNDS: System[] = ['tabula', 'y-webrtc', 'y-webrtc', 'tabula'];
async function startSignaling(): Promise<ChildProcess> {
  const server = spawn(process.execPath, ['node_modules/y-webrtc/bin/server.js'], {
    env: { ...process.env, PORT: String(SIGNALING_PORT) },
    stdio: ['ignore', 'ignore', 'inherit']
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error('y-webrtc signalling server exited');
    try {
      if ((await fetch(`http://127.0.0.1:${SIGNALING_PORT}/`)).ok) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('y-webrtc signalling server not ready within 30 s');
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Device {
  context: BrowserContext;
  page: Page;
  peerId: string;
  dir: string;
  /** This page's clock minus the system clock, ms. */
  offsetMs: number;
}

/** Its own browser and persistent profile (IndexedDB on disk), the app open, the bench module loaded. */
async function openDevice(base: string, index: number, room: string, row: Row): Promise<Device> {
  const dir = mkdtempSync(join(tmpdir(), 'tabula-bench-prop-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    baseURL: base
  });
  row.onAbort(() => context.close());
  // In the loopback-only namespace Chromium gathers ICE candidates only with a media permission.
  await context.grantPermissions(['microphone']);
  await routeBench(context);
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (err) => console.error(`[device ${index} page error] ${err.message}`));
  await openApp(page, base);
  await page.evaluate("import('/__bench/assets/propagation.js')");
  await page.evaluate(([i, url, r]) => window.benchPropagation!.init(i, url, r), [
    index,
    `ws://127.0.0.1:${SIGNALING_PORT}`,
    room
  ] as const);
  const peerId = await page.evaluate(() => window.tabula!.lastStatus!.peerId);
  return { context, page, peerId, dir, offsetMs: 0 };
}

/** Waits until every device has a direct WebRTC connection to every other (Tabula) and k−1 y-webrtc peers. */
async function waitConnected(devices: Device[]): Promise<string[]> {
  const notes: string[] = [];
  const t0 = Date.now();
  const ids = devices.map((d) => d.peerId);
  const tabula = await Promise.all(
    devices.map((d) =>
      d.page
        .waitForFunction(
          (others) =>
            others.every((id) => window.tabula?.lastStatus?.peers.some((p) => p.id === id && p.transport === 'webrtc')),
          ids.filter((id) => id !== d.peerId),
          { timeout: CONNECT_TIMEOUT_MS, polling: 250 }
        )
        .then(() => true)
        .catch(() => false)
    )
  );
  const tabulaMs = Date.now() - t0;
  const yjs = await Promise.all(
    devices.map((d) =>
      d.page
        .waitForFunction((k) => window.benchPropagation!.yjsPeers() >= k, devices.length - 1, {
          timeout: CONNECT_TIMEOUT_MS,
          polling: 250
        })
        .then(() => true)
        .catch(() => false)
    )
  );
  notes.push(
    `Tabula: ${tabula.filter(Boolean).length}/${devices.length} devices directly connected (WebRTC) to every other after ${tabulaMs} ms; ` +
      `y-webrtc: ${yjs.filter(Boolean).length}/${devices.length} with ${devices.length - 1} peers`
  );
  if (!tabula.every(Boolean)) {
    for (const [i, d] of devices.entries()) {
      const peers = await d.page.evaluate(() =>
        (window.tabula?.lastStatus?.peers ?? []).map((p) => `${p.id.slice(-6)} ${p.transport}`)
      );
      notes.push(`device ${i} (${d.peerId.slice(-6)}) sees: ${peers.join(', ') || 'no peers'}`);
    }
  }
  return notes;
}

interface RoundResult extends RoundLatencies {
  /** Tabula: put → acknowledged (signed, durable) at the writer, ms. */
  ackMs: number[];
  /** Tabula: acknowledged at the writer → applied at another device, ms (latency minus the ack). */
  afterAckMs: number[];
  failed: number;
}

/**
 * One round: every device writes `count` times at 5/s (random phase), then we wait for delivery
 * (at most DRAIN_TIMEOUT_MS; what has not arrived by then is missing: `expected` counts it).
 */
async function round(
  devices: Device[],
  system: System,
  index: number,
  count: number,
  signal: AbortSignal
): Promise<RoundResult> {
  const period = 1000 / WRITES_PER_SEC;
  const results = await Promise.all(
    devices.map(async (d) => {
      await new Promise((r) => setTimeout(r, Math.random() * period));
      return d.page.evaluate(([s, r, c, p, pad]) => window.benchPropagation!.write(s, r, c, p, pad), [
        system,
        index,
        count,
        period,
        PAD_BYTES
      ] as const);
    })
  );
  const k = devices.length;
  const expectedPer = (k - 1) * count;
  const got: Applied[][] = devices.map(() => []);
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  const prefix = `prop-${system}-${index}-`;
  const mine = (a: Applied) => a.key.startsWith(prefix);
  while (Date.now() < deadline) {
    signal.throwIfAborted();
    await Promise.all(
      devices.map(async (d, i) =>
        got[i].push(...(await d.page.evaluate((s) => window.benchPropagation!.take(s), system)).filter(mine))
      )
    );
    if (got.every((g) => new Set(g.map((a) => a.key)).size >= expectedPer)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const latencies: number[] = [];
  const afterAckMs: number[] = [];
  got.forEach((list, i) => {
    const seen = new Set<string>();
    for (const a of list) {
      if (seen.has(a.key)) continue;
      seen.add(a.key);
      const [writer, n] = a.key.slice(prefix.length).split('-').map(Number);
      const ms = a.at - devices[i].offsetMs - (a.sentAt - devices[writer].offsetMs);
      latencies.push(ms);
      const ack = results[writer].ackMs[n];
      if (Number.isFinite(ack)) afterAckMs.push(ms - ack);
    }
  });
  return {
    ackMs: results.flatMap((r) => r.ackMs).filter(Number.isFinite),
    afterAckMs,
    writes: k * count,
    expected: k * expectedPer,
    latencies,
    failed: results.reduce((s, r) => s + r.failed, 0)
  };
}

const num = (x: number, digits = 1): string => (Number.isFinite(x) ? x.toFixed(digits) : '-');

/** CPU profiles (1 ms sampling) of device 0's node worker and main thread during one more, shorter Tabula round. */
async function profileRound(devices: Device[], count: number, signal: AbortSignal): Promise<Record<string, string[]>> {
  const d = devices[0];
  const targets = {
    'node worker': await WorkerCdp.attach(d.context, d.page, 'tabula-node'),
    'app page main thread': await pageProfiler(d.context, d.page)
  };
  for (const p of Object.values(targets)) await p.startProfile();
  await round(devices, 'tabula', ROUNDS.length, Math.ceil(count / 2), signal);
  const out: Record<string, string[]> = {};
  for (const [name, p] of Object.entries(targets)) {
    const profile = await p.stopProfile();
    out[`Row 1, ${devices.length} tabs, one device during a Tabula round: ${name}`] = [
      ...topSelf(profile, 10),
      ...topTotal(profile, 15)
    ];
  }
  await targets['node worker'].detach();
  return out;
}

async function workload(base: string, tabs: number, scale: number, row: Row): Promise<Row1Workload> {
  const devices: Device[] = [];
  const room = `tabula-bench-${tabs}-${Date.now()}`;
  const { signal } = row;
  try {
    for (let i = 0; i < tabs; i++) devices.push(await openDevice(base, i, room, row));
    const notes = await waitConnected(devices);
    for (const d of devices) d.offsetMs = await d.page.evaluate(() => window.benchPropagation!.clockOffset());
    const offsets = devices.map((d) => d.offsetMs);
    notes.push(
      `page clocks minus the system clock: ${Math.min(...offsets).toFixed(2)} … ${Math.max(...offsets).toFixed(2)} ms (taken off every sample)`
    );
    const count = Math.max(1, Math.round(ROUND_SECONDS * WRITES_PER_SEC * scale));
    // Warm-up, not measured: the first writes open gossip meshes and compile code paths.
    for (const s of ['tabula', 'y-webrtc'] as const) await round(devices, s, -1, 3, signal);
    const by: Record<System, RoundResult[]> = { tabula: [], 'y-webrtc': [] };
    for (const [i, s] of ROUNDS.entries()) by[s].push(await round(devices, s, i, count, signal));
    const acks = by.tabula.flatMap((r) => r.ackMs);
    const afterAck = by.tabula.flatMap((r) => r.afterAckMs);
    notes.push(
      `Tabula, split: put → acknowledged at the writer (signed, durable in its IndexedDB, strict) median ${num(quantile(acks, 0.5))} ms, p99 ${num(quantile(acks, 0.99))} ms; ` +
        `acknowledged → applied at another device (gossip, verify, store, Yjs, event to the page; may start before the ack is seen; of the deliveries that arrived) median ${num(quantile(afterAck, 0.5))} ms, p99 ${num(quantile(afterAck, 0.99))} ms`
    );
    const failed = by.tabula.reduce((s, r) => s + r.failed, 0);
    if (failed > 0) notes.push(`${failed} Tabula writes failed`);
    const workload = `${tabs} tabs (devices), ${WRITES_PER_SEC} writes/s each, ${2 * count} writes per tab per system`;
    const rows = latencyRows(tabs, workload, DRAIN_TIMEOUT_MS, by.tabula, by['y-webrtc']);
    for (const f of latencyFailures(rows)) row.fail(f);
    const profiles = process.env.BENCH_PROFILE === '0' ? {} : await profileRound(devices, count, signal);
    return { rows, table: formatLatency(rows, notes), profiles };
  } finally {
    for (const d of devices) {
      await d.context.close().catch(() => undefined);
      rmSync(d.dir, { recursive: true, force: true });
    }
  }
}

/**
 * Row 1 for each tab count (BENCH_PROPAGATION_TABS, default the 2, 4 and 8 tabs), each a
 * row of `runner`: `keep` gets what a tab count measured, only if it completed in time. The relay
 * must be serving `base`.
 */
export async function row1(
  base: string,
  scale: number,
  runner: RowRunner,
  keep: (out: Row1Workload) => void
): Promise<void> {
  const tabCounts = (process.env.BENCH_PROPAGATION_TABS ?? '2,4,8').split(',').map(Number);
  let signaling: ChildProcess | undefined;
  await runner.run(`Row 1, propagation latency (${YWEBRTC.split(' (')[0]} signalling server)`, async (row) => {
    const server = await startSignaling();
    if (row.signal.aborted) server.kill('SIGTERM');
    else signaling = server;
  });
  if (!signaling) return;
  try {
    await tabCountRows(runner, tabCounts, (tabs, row) => workload(base, tabs, scale, row), keep);
  } finally {
    signaling.kill('SIGTERM');
  }
}
