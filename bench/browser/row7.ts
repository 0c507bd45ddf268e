// Issue 11 row 7: memory and main-thread health of a full replica with 100k entries while syncing.
// A full replica (the app at `?role=full`, a fresh profile) is filled with BENCH_ROW7_ENTRIES
// (default 100,000) entries through window.tabula.put (many in flight: group commit); then a
// second device, also a full replica (it replays and verifies every entry through sync, over a
// direct WebRTC link signalled through the relay), opens and catches up from it. We record the JS heap of both node
// workers (CDP on the worker: sampled every second while syncing, a forced full GC every fifth
// sample, and after GC once caught up), the main-thread long tasks of both pages
// (PerformanceObserver 'longtask', from page start) and CPU profiles of both main threads, whose
// busy stretches over 50 ms name what the long tasks were (long-runs.ts).
import type { BrowserContext, Page } from 'playwright-core';
import { takeLongTasks } from './health.js';
import { longRuns, type LongRuns } from './long-runs.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  WorkerCdp,
  pageProfiler,
  topSelf,
  topTotal,
  type CpuProfile,
  type HeapSource,
  type Profiler
} from './worker-cdp.js';

const ENTRIES = Number(process.env.BENCH_ROW7_ENTRIES ?? 100_000);
/** window.tabula.put calls in flight while filling (they group-commit). */
const IN_FLIGHT = Number(process.env.BENCH_ROW7_IN_FLIGHT ?? 1000);
const CHUNK = 10_000;
const VALUE_BYTES = 256;
/** Catch-up deadline: BENCH_CATCH_UP_TIMEOUT_MS, else 3 ms per entry (at least 3 min). */
const CATCH_UP_TIMEOUT_MS = Number(process.env.BENCH_CATCH_UP_TIMEOUT_MS ?? Math.max(180_000, ENTRIES * 3));
const READY_TIMEOUT_MS = 60_000;
const LONG_TASK_MS = 50;

const mb = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;

/** Heap of a node worker or page every `periodMs`: peak used (no GC) and the largest used after a forced full GC. */
class HeapSampler {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> = Promise.resolve();
  private ticks = 0;
  peakBytes = 0;
  maxAfterGcBytes = 0;
  gcSamples = 0;

  constructor(
    private readonly cdp: HeapSource,
    private readonly periodMs = 1000,
    private readonly gcEvery = 5
  ) {}

  start(): void {
    const tick = async () => {
      const gc = ++this.ticks % this.gcEvery === 0;
      try {
        const h = gc ? await this.cdp.heapAfterGc() : await this.cdp.heapUsed();
        this.peakBytes = Math.max(this.peakBytes, h.usedSize);
        if (gc) {
          this.gcSamples++;
          this.maxAfterGcBytes = Math.max(this.maxAfterGcBytes, h.usedSize);
        }
      } catch {
        // the worker went away (the page closed): no sample
      }
    };
    const loop = () => {
      this.running = tick().then(() => {
        if (this.timer !== undefined) this.timer = setTimeout(loop, this.periodMs);
      });
    };
    this.timer = setTimeout(loop, this.periodMs);
  }

  async stop(): Promise<{ peakMB: number; maxAfterGcMB: number; gcSamples: number }> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    return { peakMB: mb(this.peakBytes), maxAfterGcMB: mb(this.maxAfterGcBytes), gcSamples: this.gcSamples };
  }
}

export interface LongTaskSummary {
  count: number;
  longestMs: number;
  over50ms: number;
  /** Busy stretches of the main thread's CPU profile over 50 ms and what they ran. */
  profile: LongRuns;
}

export interface PhaseHealth {
  entries: number;
  ms: number;
  heapPeakMB: number;
  /** Largest heap after a forced GC among the samples of the phase (every 5 s). */
  heapMaxAfterGcMB: number;
  heapGcSamples: number;
  /** After a forced GC at the end of the phase. */
  heapAfterGcMB: number;
  /** The same for the app page's main thread (the UI; the replica lives in the node worker). */
  page: { heapPeakMB: number; heapMaxAfterGcMB: number; heapAfterGcMB: number };
  longTasks: LongTaskSummary;
}

export interface Row7Result {
  entries: number;
  inFlight: number;
  valueBytes: number;
  /** The full replica while it is filled with its own writes. */
  fill: PhaseHealth & { perSec: number };
  /** The full replica while the second device syncs from it. */
  serving: PhaseHealth;
  /** The second device (full replica) from opening its page until it holds every entry. */
  joiner: PhaseHealth & { caughtUp: boolean; perSec: number; firstWebrtcMs: number | null };
}

export interface Row7Output {
  result: Row7Result;
  table: string;
  profiles: Record<string, string[]>;
  /** What the row could not measure (the row is then FAILED, its table kept); empty when all. */
  failures: string[];
}

/**
 * Why row 7's figures are not those of its workload: the full replica does not hold every entry
 * it was filled with, or the second device did not catch up (its heap and long tasks are then
 * those of a partial sync, not of syncing the whole replica). Empty when the row measured it all.
 */
export function row7Failures(r: Row7Result): string[] {
  const out: string[] = [];
  if (r.fill.entries < r.entries)
    out.push(`the full replica holds ${r.fill.entries} of the ${r.entries} entries written to it`);
  if (!r.joiner.caughtUp || r.joiner.entries < r.entries)
    out.push(
      `the second device did not catch up (${r.joiner.entries}/${r.entries} entries after ${(r.joiner.ms / 1000).toFixed(1)} s): its heap, long tasks and rate are those of a partial sync`
    );
  return out;
}

function summarizeTasks(tasks: number[], profile: CpuProfile): LongTaskSummary {
  return {
    count: tasks.length,
    longestMs: Math.round(tasks.length ? Math.max(...tasks) : 0),
    over50ms: tasks.filter((d) => d > LONG_TASK_MS).length,
    profile: longRuns(profile, LONG_TASK_MS)
  };
}

/** Records every long task (ms) of each page of `context` into window.benchLongTasks, from page start. */
async function recordLongTasksFromStart(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const w = window as unknown as { benchLongTasks: number[] };
    w.benchLongTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.benchLongTasks.push(e.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
}

export const entriesOf = (page: Page) => page.evaluate(async () => (await window.tabula!.status()).ledger.entries);

/** Opens the app as a full replica in a fresh profile, long tasks recorded from page start. */
async function openFull(context: BrowserContext, base: string, name: string): Promise<Page> {
  await recordLongTasksFromStart(context);
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[row 7 ${name} page error] ${err.message}`));
  page.on('console', (m) => m.type() === 'error' && console.error(`[row 7 ${name}] ${m.text()}`));
  await page.goto(`${base}/?role=full`);
  return page;
}

export async function waitRunning(page: Page): Promise<void> {
  await page.waitForFunction(() => window.tabula?.lastStatus?.peerId !== undefined, null, {
    timeout: READY_TIMEOUT_MS
  });
  const role = await page.evaluate(() => window.tabula!.lastStatus!.role);
  if (role !== 'full') throw new Error(`row 7: the page runs a ${role} replica, not a full one`);
}

/**
 * Writes entries `<prefix>-<n>` for n in from..from+count with IN_FLIGHT window.tabula.put calls in
 * flight (they group-commit); resolves with ms. Row 5 fills its network with it too.
 */
export function fillChunk(page: Page, from: number, count: number, prefix = 'row7'): Promise<number> {
  return page.evaluate(
    async ({ from, count, inFlight, valueBytes, prefix }) => {
      // No named helpers in here: tsx's keepNames would wrap them in a __name the page lacks.
      const t = window.tabula!;
      const start = performance.now();
      let next = from;
      await Promise.all(
        Array.from({ length: Math.min(inFlight, count) }, async () => {
          while (next < from + count) {
            const n = next++;
            await t.put(`${prefix}-${n}`, `v${n}:`.padEnd(valueBytes, 'x'));
          }
        })
      );
      return performance.now() - start;
    },
    { from, count, inFlight: IN_FLIGHT, valueBytes: VALUE_BYTES, prefix }
  );
}

async function profiledPhase<T>(
  page: Page,
  profiler: Profiler,
  samplers: HeapSampler[],
  fn: () => Promise<T>
): Promise<{ value: T; ms: number; profile: CpuProfile; tasks: number[] }> {
  await takeLongTasks(page);
  await profiler.startProfile();
  for (const s of samplers) s.start();
  const t0 = Date.now();
  const value = await fn();
  const ms = Date.now() - t0;
  const profile = await profiler.stopProfile();
  return { value, ms, profile, tasks: await takeLongTasks(page) };
}

/** A page's heap over a phase: `sampler` stopped, then one more reading after a forced GC. */
async function pageHeap(sampler: HeapSampler, source: HeapSource): Promise<PhaseHealth['page']> {
  const h = await sampler.stop();
  return {
    heapPeakMB: h.peakMB,
    heapMaxAfterGcMB: h.maxAfterGcMB,
    heapAfterGcMB: mb((await source.heapAfterGc()).usedSize)
  };
}

async function fill(
  page: Page,
  cdp: WorkerCdp,
  profiler: Profiler & HeapSource
): Promise<Row7Result['fill'] & { cpu: CpuProfile }> {
  const sampler = new HeapSampler(cdp);
  const pageSampler = new HeapSampler(profiler);
  const run = await profiledPhase(page, profiler, [sampler, pageSampler], async () => {
    for (let from = 0; from < ENTRIES; from += CHUNK) {
      const count = Math.min(CHUNK, ENTRIES - from);
      const ms = await fillChunk(page, from, count);
      console.log(`bench: row 7: ${from + count}/${ENTRIES} entries written (${Math.round((count * 1000) / ms)}/s)`);
    }
  });
  const heap = await sampler.stop();
  return {
    entries: await entriesOf(page),
    ms: run.ms,
    perSec: Math.round((ENTRIES * 1000) / run.ms),
    heapPeakMB: heap.peakMB,
    heapMaxAfterGcMB: heap.maxAfterGcMB,
    heapGcSamples: heap.gcSamples,
    heapAfterGcMB: mb((await cdp.heapAfterGc()).usedSize),
    page: await pageHeap(pageSampler, profiler),
    longTasks: summarizeTasks(run.tasks, run.profile),
    cpu: run.profile
  };
}

/** The second device opens as a full replica and catches up; the first serves it meanwhile. */
async function sync(
  base: string,
  server: { page: Page; cdp: WorkerCdp; profiler: Profiler & HeapSource },
  joinerContext: BrowserContext
): Promise<{
  serving: Row7Result['serving'];
  joiner: Row7Result['joiner'];
  cpu: { serving: CpuProfile; joiner: CpuProfile; joinerWorker: CpuProfile };
}> {
  await recordLongTasksFromStart(joinerContext);
  const page = await joinerContext.newPage();
  page.on('pageerror', (err) => console.error(`[row 7 joiner page error] ${err.message}`));
  const joinerProfiler = await pageProfiler(joinerContext, page);
  const serverSampler = new HeapSampler(server.cdp);
  const serverPageSampler = new HeapSampler(server.profiler);
  const joinerPageSampler = new HeapSampler(joinerProfiler);
  let joinerSampler: HeapSampler | undefined;
  let joinerCdp: WorkerCdp | undefined;
  let caughtUp = true;
  let joinerProfile: CpuProfile | undefined;
  let joinerWorkerProfile: CpuProfile | undefined;
  await joinerProfiler.startProfile();
  const run = await profiledPhase(server.page, server.profiler, [serverSampler, serverPageSampler], async () => {
    await page.goto(`${base}/?role=full`);
    joinerPageSampler.start();
    await waitRunning(page);
    joinerCdp = await WorkerCdp.attach(joinerContext, page, 'tabula-node');
    await joinerCdp.startProfile();
    joinerSampler = new HeapSampler(joinerCdp);
    joinerSampler.start();
    const progress = setInterval(() => {
      void page
        .evaluate(() => window.tabula?.lastStatus?.ledger.entries ?? 0)
        .then((n) => console.log(`bench: row 7: the second device holds ${n}/${ENTRIES} entries`))
        .catch(() => undefined);
    }, 15_000);
    await page
      .waitForFunction((min) => (window.tabula?.lastStatus?.ledger.entries ?? 0) >= min, ENTRIES, {
        timeout: CATCH_UP_TIMEOUT_MS,
        polling: 250
      })
      .catch(() => (caughtUp = false))
      .finally(() => clearInterval(progress));
    joinerProfile = await joinerProfiler.stopProfile();
    joinerWorkerProfile = await joinerCdp.stopProfile();
  });
  const serverHeap = await serverSampler.stop();
  const joinerHeap = await joinerSampler!.stop();
  const joinerTasks = await page.evaluate(() => window.benchLongTasks ?? []);
  const joinerEntries = await entriesOf(page);
  const firstWebrtcMs = await page.evaluate(() => window.tabula!.lastStatus?.timings.firstWebrtcMs ?? null);
  const serving: Row7Result['serving'] = {
    entries: await entriesOf(server.page),
    ms: run.ms,
    heapPeakMB: serverHeap.peakMB,
    heapMaxAfterGcMB: serverHeap.maxAfterGcMB,
    heapGcSamples: serverHeap.gcSamples,
    heapAfterGcMB: mb((await server.cdp.heapAfterGc()).usedSize),
    page: await pageHeap(serverPageSampler, server.profiler),
    longTasks: summarizeTasks(run.tasks, run.profile)
  };
  const joiner: Row7Result['joiner'] = {
    entries: joinerEntries,
    ms: run.ms,
    caughtUp,
    perSec: Math.round((joinerEntries * 1000) / run.ms),
    firstWebrtcMs,
    heapPeakMB: joinerHeap.peakMB,
    heapMaxAfterGcMB: joinerHeap.maxAfterGcMB,
    heapGcSamples: joinerHeap.gcSamples,
    heapAfterGcMB: mb((await joinerCdp!.heapAfterGc()).usedSize),
    page: await pageHeap(joinerPageSampler, joinerProfiler),
    longTasks: summarizeTasks(joinerTasks, joinerProfile!)
  };
  await joinerCdp!.detach();
  return { serving, joiner, cpu: { serving: run.profile, joiner: joinerProfile!, joinerWorker: joinerWorkerProfile! } };
}

function formatRow7(r: Row7Result): string {
  const row = (who: string, p: PhaseHealth) =>
    `| ${who} | ${p.entries} | ${(p.ms / 1000).toFixed(1)} s | ${p.heapGcSamples === 0 ? '—' : `${p.heapMaxAfterGcMB} MB`} (${p.heapGcSamples}) | ${p.heapPeakMB} MB | ${p.heapAfterGcMB} MB | ${p.heapGcSamples === 0 ? '—' : `${p.page.heapMaxAfterGcMB} MB`} / ${p.page.heapPeakMB} MB | ${p.heapGcSamples === 0 ? '—' : `${mb((p.heapMaxAfterGcMB + p.page.heapMaxAfterGcMB) * 2 ** 20)} MB`} | ${p.longTasks.count} | ${p.longTasks.longestMs} ms | ${p.longTasks.over50ms} |`;
  const named = (who: string, p: PhaseHealth) =>
    p.longTasks.profile.count === 0
      ? []
      : [
          `- ${who}: ${p.longTasks.profile.count} busy stretches over ${LONG_TASK_MS} ms in its main-thread CPU profile (tasks back to back count as one; longest ${p.longTasks.profile.longestMs} ms, ${p.longTasks.profile.totalMs} ms in all); their samples were in: ${p.longTasks.profile.top.slice(0, 6).join('; ')}`
        ];
  return [
    `## Row 7, memory and main-thread health (absolute): a full replica of ${r.entries} entries while a second device syncs from it`,
    `- filled through its app page: ${r.entries} window.tabula.put (${r.valueBytes} B values, distinct keys, ${r.inFlight} in flight: group commit) in ${(r.fill.ms / 1000).toFixed(1)} s, ${r.fill.perSec}/s`,
    `- the second device is a full replica too (\`?role=full\`, a fresh profile): it replays and verifies every entry through sync over a direct WebRTC link (signalled through the relay); ${r.joiner.caughtUp ? 'caught up' : 'did NOT catch up'} in ${(r.joiner.ms / 1000).toFixed(1)} s from opening its page (${r.joiner.perSec} entries/s; its first direct WebRTC link ${r.joiner.firstWebrtcMs ?? '?'} ms after its network started)`,
    `- JS heap of each node worker and of its app page's main thread (CDP): sampled every 1 s, a forced full GC every 5th sample (the worker's count in brackets); "after GC" at the end of the phase; the device's heap is the worker's plus the page's. Long tasks: PerformanceObserver 'longtask' on the page`,
    ...named('long tasks of the full replica while filled', r.fill),
    ...named('long tasks of the full replica while serving', r.serving),
    ...named('long tasks of the joining device', r.joiner),
    '',
    '| device, phase | entries held | phase took | worker JS heap after GC, max in the phase | worker peak heap (no GC) | worker after GC at the end | page JS heap after GC max / peak | device (worker + page) after GC, max | main-thread long tasks | longest | over 50 ms |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    row('full replica, filled with its own writes', r.fill),
    row('full replica, serving the sync', r.serving),
    row('second device (full replica), page open → caught up', r.joiner),
    `target: JS heap ≤ 100 MB (issue: full replica with 100k entries while syncing); no main-thread long task over ${LONG_TASK_MS} ms`
  ].join('\n');
}

/** Row 7 in two fresh profiles (the full replica, the syncing device); closes both. */
export async function row7(launch: () => Promise<BrowserContext>, base: string): Promise<Row7Output> {
  const profiles: Record<string, string[]> = {};
  const top = (p: CpuProfile) => [...topSelf(p, 8), ...topTotal(p, 12)];
  const serverContext = await launch();
  let joinerContext: BrowserContext | undefined;
  try {
    const page = await openFull(serverContext, base, 'full replica');
    await waitRunning(page);
    const cdp = await WorkerCdp.attach(serverContext, page, 'tabula-node');
    const profiler = await pageProfiler(serverContext, page);
    const { cpu: fillCpu, ...filled } = await fill(page, cdp, profiler);
    profiles['row 7: full replica main thread while filled'] = top(fillCpu);
    joinerContext = await launch();
    const { serving, joiner, cpu } = await sync(base, { page, cdp, profiler }, joinerContext);
    profiles['row 7: full replica main thread while serving the sync'] = top(cpu.serving);
    profiles['row 7: joining device main thread'] = top(cpu.joiner);
    profiles['row 7: joining device node worker (replaying the sync)'] = top(cpu.joinerWorker);
    // BENCH_ROW7_PROFILE_DIR: the joining worker's whole CPU profile (where catch-up time goes).
    const dir = process.env.BENCH_ROW7_PROFILE_DIR;
    if (dir !== undefined) writeFileSync(join(dir, 'row7-joiner-worker.cpuprofile'), JSON.stringify(cpu.joinerWorker));
    await cdp.detach();
    const result: Row7Result = {
      entries: ENTRIES,
      inFlight: IN_FLIGHT,
      valueBytes: VALUE_BYTES,
      fill: filled,
      serving,
      joiner
    };
    return { result, table: formatRow7(result), profiles, failures: row7Failures(result) };
  } finally {
    await joinerContext?.close();
    await serverContext.close();
  }
}
