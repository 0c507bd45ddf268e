// The bench page: starts the bench worker and exposes `window.runBench(name, params)` to Playwright.
import type { BenchOutput, BenchRequest, BenchResponse } from './protocol.js';

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'tabula-bench' });
const waiting = new Map<number, (r: BenchResponse) => void>();
let next = 0;
worker.onmessage = (ev: MessageEvent<BenchResponse>) => waiting.get(ev.data.id)?.(ev.data);

declare global {
  interface Window {
    runBench(bench: string, params: Record<string, number>): Promise<BenchOutput>;
    benchReady: boolean;
  }
}

window.runBench = (bench, params) =>
  new Promise((resolve, reject) => {
    const id = next++;
    waiting.set(id, (r) => {
      waiting.delete(id);
      if (r.ok) resolve(r.out);
      else reject(new Error(r.error));
    });
    worker.postMessage({ id, bench, params } satisfies BenchRequest);
  });
window.benchReady = true;
