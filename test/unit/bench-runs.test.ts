// Rows 2 and 6 of the bench run each method several times and print median and p99 (issue 11:
// "our median, p99"): bench/runs.ts summarises the runs (nearest-rank, so over few runs the p99 is
// the largest), bench/reconcile-peers.ts a row 2 method's runs (a run that missed a differing feed
// makes the row INCOMPLETE even when the others found them all), bench/catch-up.ts row 6's runs (a
// run that did not catch up makes the row NOT RUN even when the others did).
import { describe, expect, it } from 'vitest';
import { catchUpSetup } from '../helpers/bench-fixtures.js';
import { medianMaxCell, spread } from '../../bench/runs.js';
import { bytesRatioCell, foundRunsCell, repsFor, summarizeRuns, type Row } from '../../bench/reconcile-peers.js';
import { formatCatchUp, notCaughtUp, summarizeCatchUp, type CatchUpRun } from '../../bench/catch-up.js';

describe('bench runs: median and p99', () => {
  it('p99 over few runs is the largest; the median is the middle one', () => {
    expect(spread([7, 3, 9, 1, 5])).toEqual({ median: 5, p99: 9, min: 1, max: 9 });
    expect(spread([4, 2, 3])).toMatchObject({ median: 3, p99: 4 });
    expect(spread([6])).toEqual({ median: 6, p99: 6, min: 6, max: 6 });
    expect(() => spread([])).toThrow();
  });

  it('a figure that differed between runs shows its largest; one that did not is bare', () => {
    expect(medianMaxCell(spread([3, 3, 3]))).toBe('3');
    expect(medianMaxCell(spread([3, 4, 3]))).toBe('3 (max 4)');
    expect(medianMaxCell(spread([10, 12, 11]), (x) => `${x} B`)).toBe('11 B (max 12 B)');
  });
});

const row = (cpuMs: number, found = 100, bytes = 1000): Row => ({
  method: 'negentropy',
  aToB: bytes,
  bToA: bytes,
  rtts: 2,
  cpuMs,
  found
});

describe('bench row 2: a method run several times', () => {
  it('CPU as median and p99 (the largest of 5), bytes as medians, and a found count only when every run found d', () => {
    const r = summarizeRuns([row(5), row(1), row(9), row(3), row(7)], 100);
    expect(r).toMatchObject({ runs: 5, cpuMs: 5, found: 100, short: 0, aToB: 1000, rtts: 2 });
    expect(r.cpu).toMatchObject({ median: 5, p99: 9 });
    expect(foundRunsCell(r, 100)).toBe('100');
  });

  it('one run of five that missed a feed makes the row INCOMPLETE and its ratio "—"', () => {
    const r = summarizeRuns([row(1), row(2), row(3, 99), row(4), row(5)], 100);
    expect(r.found).toBe(99);
    expect(r.short).toBe(1);
    expect(foundRunsCell(r, 100)).toMatch(/^99 of 100: INCOMPLETE.*\(1 of 5 runs\)$/);
    const merkle = summarizeRuns([{ ...row(1), method: 'merkle' }], 100);
    expect(bytesRatioCell(merkle, r, 100)).toBe('—');
    expect(bytesRatioCell(merkle, summarizeRuns([row(1), row(2)], 100), 100)).toBe('1.00×');
  });

  it('the ratio compares median bytes', () => {
    const merkle = summarizeRuns([{ ...row(1), method: 'merkle' }], 100);
    const r = summarizeRuns([row(1, 100, 500), row(1, 100, 4000), row(1, 100, 500)], 100);
    expect(r.bytesAToB).toMatchObject({ median: 500, max: 4000 });
    expect(bytesRatioCell(merkle, r, 100)).toBe('2.00×');
  });

  it('every method of a row runs as often: 5 at n ≤ 100k and d ≤ 1,000, 3 at d = 10,000', () => {
    for (const m of ['merkle', 'comparator'] as const) {
      expect(repsFor(100_000, 100, m)).toBe(5);
      expect(repsFor(10_000, 10_000, m)).toBe(3);
    }
    expect(repsFor(1_000_000, 100, 'comparator')).toBe(1);
  });
});

const setup = catchUpSetup;
const run = (ms: number, toB: number, caughtUp = true): CatchUpRun => ({
  toA: 20_000,
  toB,
  messages: 400,
  byType: { entries: { messages: 380, bytes: toB - 10_000 }, get: { messages: 20, bytes: 30_000 } },
  entryBytesCarried: toB - 20_000,
  duplicates: 0,
  roundTripsMerkle: 4,
  ms,
  caughtUp,
  received: caughtUp ? 10_000 : 4_000
});

describe('bench row 6: the catch-up run several times', () => {
  it('time and bytes as median and p99 (the largest of 5), the ratios and verdict of the median bytes', () => {
    const runs = [
      run(4000, 2_100_000),
      run(6000, 2_080_000),
      run(3000, 2_300_000),
      run(5000, 2_060_000),
      run(9000, 2_200_000)
    ];
    const r = summarizeCatchUp(setup, runs);
    expect(r.spreads.ms).toMatchObject({ median: 5000, p99: 9000 });
    expect(r.spreads.total).toMatchObject({ median: 2_120_000, p99: 2_320_000 });
    expect(r.ms).toBe(5000);
    expect(r.runs).toHaveLength(5);
    expect(r.detailRun).toBe(0);
    expect(r).toMatchObject({ caughtUp: true, verdict: 'met', met: true, ratioToMissing: 1.06, ratioToRefetch: 0.106 });
    expect(notCaughtUp([r])).toEqual([]);
    const text = formatCatchUp(r);
    expect(text).toContain('| 1.060× / 1.160× | 0.106× |');
    expect(text).toContain('median 5000 ms, p99 9000 ms');
    expect(text).toContain('(met, on the median bytes)');
  });

  it('one run of five that did not catch up makes the row NOT RUN, with no ratio', () => {
    const runs = [
      run(4000, 2_100_000),
      run(4000, 2_100_000),
      run(61_000, 900_000, false),
      run(4000, 2_100_000),
      run(4000, 2_100_000)
    ];
    const r = summarizeCatchUp(setup, runs);
    expect(r).toMatchObject({
      caughtUp: false,
      verdict: 'NOT RUN',
      met: false,
      ratioToMissing: null,
      ratioToRefetch: null
    });
    expect(r.received).toBe(4_000);
    expect(notCaughtUp([r])).toEqual([
      'n = 100000, 100 authors: did not catch up in 1 of 5 runs (stalled after 4000 of 10000 missing entries; no ratio)'
    ]);
    const text = formatCatchUp(r);
    const syncRow = text.split('\n').find((l) => l.startsWith('| tabula sync'))!;
    expect(syncRow).not.toMatch(/\d×/);
    const target = text.split('\n').find((l) => l.startsWith('target:'))!;
    expect(target).toContain('NOT RUN: 1 of 5 runs did not catch up');
    expect(target).not.toMatch(/\bmet\b/);
  });

  it('has no verdict without a run', () => {
    expect(() => summarizeCatchUp(setup, [])).toThrow();
  });
});
