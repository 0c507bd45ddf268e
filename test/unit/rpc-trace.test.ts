import { describe, expect, it } from 'vitest';
import { RpcTrace, segmentsOf } from '../../src/lib/client/rpc-trace.js';

describe('rpc trace', () => {
  it('splits a call into its page/worker segments', () => {
    expect(segmentsOf(1000, [1010, 1011, 1031, 1032], 1040)).toEqual({
      toWorker: 10,
      toStart: 1,
      run: 20,
      toPost: 1,
      toPage: 8,
      total: 40
    });
  });

  it('summarises the last calls per method as percentiles, bounded by its window', () => {
    const t = new RpcTrace(100);
    // 150 calls: only the last 100 (run 50..149 ms) stay in the window.
    for (let i = 0; i < 150; i++) t.record('put', segmentsOf(0, [1, 1, 1 + i, 1 + i], 2 + i));
    t.record('status', segmentsOf(0, [0, 0, 5, 5], 5));
    const s = t.summary();
    expect(s.put?.calls).toBe(150);
    expect(s.put?.window).toBe(100);
    expect(s.put?.run).toEqual({ p50: 99, p90: 139, p99: 148, max: 149, mean: 99.5 });
    expect(s.put?.toWorker.max).toBe(1);
    expect(s.put?.total.p50).toBe(101);
    expect(s.status?.run.p50).toBe(5);
  });
});
