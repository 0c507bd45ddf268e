import { describe, expect, it } from 'vitest';
import { formatTable, quantile, summarize, type ResultRow } from '../../bench/browser/stats.js';
import { topSelf, topTotal, type CpuProfile } from '../../bench/browser/worker-cdp.js';

describe('bench stats', () => {
  it('quantile is nearest-rank over unsorted samples', () => {
    const xs = [5, 1, 4, 2, 3];
    expect(quantile(xs, 0.5)).toBe(3);
    expect(quantile(xs, 0.99)).toBe(5);
    expect(quantile(xs, 0)).toBe(1);
    expect(quantile([], 0.5)).toBeNaN();
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(quantile(hundred, 0.99)).toBe(99);
  });

  it('summarize reports throughput over all samples', () => {
    const s = summarize({ name: 'x', ms: [10, 30], perSample: 100 });
    expect(s).toMatchObject({ samples: 2, medianMs: 10, p99Ms: 30 });
    expect(s.perSec).toBeCloseTo(5000);
  });

  it('formatTable marks the comparator and prints the ratio', () => {
    const base = {
      samples: 1,
      perSample: 1,
      medianMs: 1,
      p99Ms: 2,
      bench: 'b',
      workload: 'w',
      comparator: 'raw',
      target: 't'
    };
    const rows: ResultRow[] = [
      { ...base, name: 'ours', perSec: 50, role: 'ours', ratio: 0.5 },
      { ...base, name: 'raw', perSec: 100, role: 'comparator', ratio: 1 }
    ];
    const table = formatTable('T', rows, ['note']);
    expect(table).toContain('| ours | 1 × 1 | 1.00 | 2.00 | 50 | 0.50× |');
    expect(table).toContain('raw (comparator)');
    expect(table).toContain('target: t');
  });
});

describe('CPU profile summaries', () => {
  const frame = (functionName: string) => ({ functionName, url: 'https://x/a.js', lineNumber: 0 });
  // root → outer → inner (recursive: inner → inner); idle under root.
  const profile: CpuProfile = {
    startTime: 0,
    endTime: 10,
    nodes: [
      { id: 1, callFrame: frame('(root)'), hitCount: 0, children: [2, 5] },
      { id: 2, callFrame: frame('outer'), hitCount: 1, children: [3] },
      { id: 3, callFrame: frame('inner'), hitCount: 2, children: [4] },
      { id: 4, callFrame: frame('inner'), hitCount: 3 },
      { id: 5, callFrame: frame('(idle)'), hitCount: 4 }
    ]
  };

  it('self time sums a function over its nodes', () => {
    expect(topSelf(profile)[0]).toBe('self 50.0% inner (a.js:1)');
  });

  it('total time counts a recursive function once per sample and leaves out root and idle', () => {
    expect(topTotal(profile)).toEqual(['total 60.0% outer (a.js:1)', 'total 50.0% inner (a.js:1)']);
  });
});
