// Issue 11 row 7 (absolute): the JS heap of the node's worker holding N entries (after a full GC,
// through CDP on the worker target) and the main thread's long tasks (PerformanceObserver
// 'longtask') in the app page while it works.
import type { Page } from 'playwright-core';
import type { WorkerCdp } from './worker-cdp.js';

declare global {
  interface Window {
    benchLongTasks?: number[];
  }
}

/** Starts recording long-task durations (ms) in `page` into window.benchLongTasks. */
export async function watchLongTasks(page: Page): Promise<void> {
  await page.evaluate(() => {
    window.benchLongTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.benchLongTasks!.push(e.duration);
    }).observe({ type: 'longtask', buffered: false });
  });
}

/** Long tasks recorded since watchLongTasks, and clears them. */
export async function takeLongTasks(page: Page): Promise<number[]> {
  return page.evaluate(() => window.benchLongTasks!.splice(0));
}

export interface Health {
  entries: number;
  heapUsedMB: number;
  heapTotalMB: number;
  longTasks: number;
  longestTaskMs: number;
  longTasksOver50ms: number;
}

/** The node worker's heap (after GC) with the entries it holds, and the long tasks seen. */
export async function health(app: Page, cdp: WorkerCdp, longTasks: number[]): Promise<Health> {
  const entries = await app.evaluate(() => window.tabula!.lastStatus?.ledger.entries ?? -1);
  const heap = await cdp.heapAfterGc();
  const mb = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;
  return {
    entries,
    heapUsedMB: mb(heap.usedSize),
    heapTotalMB: mb(heap.totalSize),
    longTasks: longTasks.length,
    longestTaskMs: longTasks.length ? Math.max(...longTasks) : 0,
    longTasksOver50ms: longTasks.filter((d) => d > 50).length
  };
}
