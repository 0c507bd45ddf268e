// Row 7 while syncing: a second device (its own profile) joins the app's replica and catches up
// over WebRTC through the relay; we record its main thread's long tasks from page start and its
// node worker's heap after GC once it holds every entry.
import type { BrowserContext, Page } from 'playwright-core';
import { WorkerCdp, pageProfiler, topSelf, topTotal } from './worker-cdp.js';

const CATCH_UP_TIMEOUT_MS = Number(process.env.BENCH_CATCH_UP_TIMEOUT_MS ?? 180_000);

export interface JoinHealth {
  entries: number;
  caughtUp: boolean;
  catchUpMs: number;
  heapUsedMB: number;
  longTasks: number;
  longestTaskMs: number;
  longTasksOver50ms: number;
  /** Top functions of the joiner's main thread during the catch-up (CPU profile). */
  mainThreadProfile: string[];
}

/** Records every long task (ms) of each page of `context` into window.benchLongTasks, from page start. */
export async function recordLongTasksFromStart(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const w = window as unknown as { benchLongTasks: number[] };
    w.benchLongTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.benchLongTasks.push(e.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
}

async function entriesOf(page: Page): Promise<number> {
  return page.evaluate(() => window.tabula?.lastStatus?.ledger.entries ?? 0);
}

/** Opens the app in `joiner` (a fresh profile) and waits until it holds `target` entries. */
export async function joinAndCatchUp(joiner: BrowserContext, baseURL: string, target: number): Promise<JoinHealth> {
  await recordLongTasksFromStart(joiner);
  const page = await joiner.newPage();
  page.on('pageerror', (err) => console.error(`[joiner page error] ${err.message}`));
  const main = await pageProfiler(joiner, page);
  await main.startProfile();
  const t0 = Date.now();
  await page.goto(`${baseURL}/`);
  let caughtUp = true;
  await page
    .waitForFunction((min) => (window.tabula?.lastStatus?.ledger.entries ?? 0) >= min, target, {
      timeout: CATCH_UP_TIMEOUT_MS,
      polling: 100
    })
    .catch(() => (caughtUp = false));
  const catchUpMs = Date.now() - t0;
  const profile = await main.stopProfile();
  const cdp = await WorkerCdp.attach(joiner, page, 'tabula-node');
  const heap = await cdp.heapAfterGc();
  await cdp.detach();
  const tasks = await page.evaluate(() => window.benchLongTasks ?? []);
  return {
    entries: await entriesOf(page),
    caughtUp,
    catchUpMs,
    heapUsedMB: Math.round((heap.usedSize / 2 ** 20) * 10) / 10,
    longTasks: tasks.length,
    longestTaskMs: tasks.length ? Math.max(...tasks) : 0,
    longTasksOver50ms: tasks.filter((d) => d > 50).length,
    mainThreadProfile: [...topSelf(profile, 8), ...topTotal(profile, 12)]
  };
}
