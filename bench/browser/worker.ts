// The bench worker: runs one named benchmark per request and answers with its samples.
import '../../src/lib/platform/polyfills.js';
import { benchIngest } from './ingest.js';
import type { BenchOutput, BenchRequest, BenchResponse } from './protocol.js';
import { benchWrites } from './writes.js';

const BENCHES: Record<string, (p: Record<string, number>) => Promise<BenchOutput>> = {
  writes: benchWrites,
  ingest: benchIngest
};

self.onmessage = async (ev: MessageEvent<BenchRequest>) => {
  const { id, bench, params } = ev.data;
  let res: BenchResponse;
  try {
    const fn = BENCHES[bench];
    if (!fn) throw new Error(`unknown bench ${bench}`);
    res = { id, ok: true, out: await fn(params) };
  } catch (e) {
    res = { id, ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
  self.postMessage(res);
};
