// Row 3 through the product's own path: window.tabula.put in the app page, answered by the node
// in its worker (postMessage, Ledger.put, Dexie store) once the write is durable. The client has
// no batched write, so a batch is `batch` puts issued at once and awaited together.
import type { Page } from 'playwright-core';
import type { Series } from './protocol.js';

const READY_TIMEOUT_MS = 60_000;

/** Opens the app and waits until its node runs (it reports a peer id). */
export async function openApp(page: Page, baseURL: string): Promise<void> {
  await page.goto(`${baseURL}/`);
  await page.waitForFunction(() => window.tabula?.lastStatus?.peerId !== undefined, null, {
    timeout: READY_TIMEOUT_MS
  });
}

/** `batches` samples of `batch` concurrent window.tabula.put calls (256 B string values). */
export async function appPuts(page: Page, batch: number, batches: number, valueBytes: number): Promise<Series> {
  const ms = await page.evaluate(
    async ({ batch, batches, valueBytes }) => {
      // No named helpers in here: tsx's keepNames would wrap them in a __name the page lacks.
      const t = window.tabula!;
      await t.put('warm-up', 'v0:'.padEnd(valueBytes, 'x'));
      const out: number[] = [];
      let n = 0;
      for (let b = 0; b < batches; b++) {
        const start = performance.now();
        await Promise.all(
          Array.from({ length: batch }, () => t.put(`app-${batch}-${n}`, `v${n++}:`.padEnd(valueBytes, 'x')))
        );
        out.push(performance.now() - start);
      }
      return out;
    },
    { batch, batches, valueBytes }
  );
  return { name: 'tabula window.tabula.put (app page → node worker)', ms, perSample: batch };
}
