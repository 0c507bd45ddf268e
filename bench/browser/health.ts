// Main-thread long tasks (PerformanceObserver 'longtask') of an app page while it works (rows 3
// and 7).
import type { Page } from 'playwright-core';

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
