// `npm run bench` must never print a ratio, or "met", for work that failed (the browser rows).
// Row 5 (browser): a replaying device that never caught up had its deadline taken as its replay
// time ("≥ 10× (met)"), and a join that never showed the state still left a finite median.
// Row 1: deliveries that never arrived were left out of the percentiles (p99 of the survivors),
// and a tab count that threw was printed but missing from the results' notRun.
import { describe, expect, it } from 'vitest';
import {
  formatLatency,
  latencyFailures,
  latencyRows,
  tabCountRows,
  type RoundLatencies
} from '../../bench/browser/latency.js';
import {
  formatRow5,
  summariseRow5,
  type Row5Join,
  type Row5Replay,
  type Row5Result
} from '../../bench/browser/row5-summary.js';
import { RowRunner } from '../../bench/browser/rows.js';
import { quantileWithMissing } from '../../bench/browser/stats.js';

const ENTRIES = 2000;

function join(visibleMs: number | null, profiled = false): Row5Join {
  const reached = visibleMs !== null;
  return {
    networkStartMs: 300,
    relayLinkMs: 400,
    firstDirectLinkMs: 500,
    askedMs: 550,
    agreedMs: reached ? 600 : null,
    downloadedMs: reached ? 650 : null,
    checkedMs: reached ? 660 : null,
    installedMs: reached ? 700 : null,
    visibleMs,
    verifiedMs: null,
    entries: reached ? ENTRIES : 0,
    snapshotBytes: 0,
    peersAsked: 3,
    agreeing: reached ? 3 : 0,
    state: reached ? 'installed' : 'failed',
    role: 'light',
    profiled
  };
}

function row5(joins: Row5Join[], replay: Row5Replay): Row5Result {
  return {
    entries: ENTRIES,
    fillMs: 5000,
    archiveCaughtUpMs: 1000,
    replay,
    joins,
    ...summariseRow5(joins, replay, ENTRIES)
  };
}

/** The summary row of the row 5 table (the one with the ratio and the targets). */
const summaryLine = (table: string) => table.split('\n').find((l) => l.startsWith('| 5 (browser) |'))!;

describe('bench row 5 (browser): no ratio or "met" for work that failed', () => {
  const caughtUp: Row5Replay = { ms: 12_000, caughtUp: true, entries: ENTRIES, sameRoot: true };

  it('prints the measured row as before', () => {
    const r = row5([join(800), join(900), join(1000), join(5000, true)], caughtUp);
    expect(r.failures).toEqual([]);
    expect(r.visible).toEqual({ median: 900, p99: 1000, samples: 3, failed: 0 });
    expect(r.ratio).toBeCloseTo(12_000 / 900);
    expect(summaryLine(formatRow5(r))).toBe(
      '| 5 (browser) | page open → state visible | 0.90 s | 1.00 s | replay every entry: 12.00 s | 13.3× | < 1.5 s (met); ≥ 10× (met) |'
    );
  });

  it('a replaying device that did not catch up gives no replay time: no ratio, not "met"', () => {
    // The deadline (180 s) was the replay "time": 180 / 0.9 = 200× "(met)" before.
    const timedOut: Row5Replay = { ms: 180_000, caughtUp: false, entries: 1200, sameRoot: false };
    const r = row5([join(800), join(900), join(1000), join(900, true)], timedOut);
    expect(r.ratio).toBeNaN();
    expect(r.failures).toEqual([expect.stringContaining('did not catch up (1200/2000 entries')]);
    const line = summaryLine(formatRow5(r));
    // The joins were measured (their target stands); the ratio was not.
    expect(line).toBe(
      '| 5 (browser) | page open → state visible | 0.90 s | 1.00 s | replay every entry: did NOT catch up in 180.00 s | — | < 1.5 s (met); ≥ 10× (not measured) |'
    );
    expect(JSON.parse(JSON.stringify(r)).ratio).toBeNull();
  });

  it('a counted join that never showed the state gives no median, p99 or ratio, and misses the target', () => {
    const r = row5([join(800), join(null), join(900), join(700, true)], caughtUp);
    expect(r.visible).toEqual({ median: NaN, p99: NaN, samples: 3, failed: 1 });
    expect(r.ratio).toBeNaN();
    expect(r.failures).toEqual(['1 of 3 joins never showed the state: no median, p99 or ratio']);
    const table = formatRow5(r);
    expect(summaryLine(table)).toBe(
      '| 5 (browser) | page open → state visible | — | — | replay every entry: 12.00 s | — | < 1.5 s (missed); ≥ 10× (not measured) |'
    );
    expect(table).toContain('- NOT MEASURED: 1 of 3 joins never showed the state');
    expect(table).not.toContain('(met)');
  });

  it('a failed profiled join (not counted) does not fail the row', () => {
    const r = row5([join(800), join(900), join(1000), join(null, true)], caughtUp);
    expect(r.failures).toEqual([]);
    expect(r.visible.median).toBe(900);
  });
});

const round = (expected: number, latencies: number[]): RoundLatencies => ({ writes: expected, expected, latencies });
const ms = (n: number, v: number) => Array<number>(n).fill(v);

describe('bench row 1: missing deliveries count, never left out', () => {
  it('missing counts as later than any arrival (+Infinity) in the percentiles', () => {
    expect(quantileWithMissing([10, 20], 0, 0.99)).toBe(20);
    expect(quantileWithMissing(ms(98, 10), 2, 0.99)).toBe(Infinity);
    expect(quantileWithMissing(ms(98, 10), 2, 0.5)).toBe(10);
    expect(quantileWithMissing([], 3, 0.5)).toBe(Infinity);
    expect(quantileWithMissing([], 0, 0.5)).toBeNaN();
  });

  it('Tabula losing 2 of 100 deliveries has no p99 below the drain time, and no p99 ratio', () => {
    const [ours, comparator] = latencyRows(2, 'w', 20_000, [round(100, ms(98, 10))], [round(100, ms(100, 30))]);
    expect(ours).toMatchObject({
      samples: 98,
      expected: 100,
      missing: 2,
      medianMs: 10,
      p99Ms: Infinity,
      maxMs: Infinity
    });
    // Before: p99 of the 98 survivors, 10 ms, ratio 0.33×.
    expect(ours.ratioP99).toBeNaN();
    expect(ours.ratioP50).toBeCloseTo(1 / 3);
    expect(comparator).toMatchObject({ missing: 0, p99Ms: 30, ratioP99: 1 });
    const table = formatLatency([ours, comparator], []);
    expect(table).toContain(
      '| tabula (window.tabula.put → records event) | 100 | 98 / 100 | 10.0 | > 20000 | > 20000 | 0.33× | -× |'
    );
    expect(table).toContain('- tabula (window.tabula.put → records event): 2 of 100 deliveries never arrived');
  });

  it('a comparator that lost deliveries gives no ratio rather than flattering ours', () => {
    const [ours] = latencyRows(2, 'w', 20_000, [round(100, ms(100, 40))], [round(100, ms(90, 30))]);
    expect(ours.p99Ms).toBe(40);
    expect(ours.ratioP99).toBeNaN();
    expect(ours.ratioP50).toBeCloseTo(40 / 30);
  });

  it('a tab count where either system lost deliveries is FAILED (exit 1), one where all arrived is not', () => {
    const lostOurs = latencyRows(2, 'w', 20_000, [round(100, ms(98, 10))], [round(100, ms(100, 30))]);
    expect(latencyFailures(lostOurs)).toEqual([
      'tabula (window.tabula.put → records event) (ours): 2 of 100 deliveries never arrived at 2 tabs: latencies and ratios not fully measured'
    ]);
    // The comparator never delivering (y-webrtc never connected): before, the row completed and the bench exited 0.
    const lostComparator = latencyRows(2, 'w', 20_000, [round(100, ms(100, 40))], [round(100, [])]);
    expect(latencyFailures(lostComparator)).toHaveLength(1);
    expect(latencyFailures(lostComparator)[0]).toMatch(/\(comparator\): 100 of 100 deliveries never arrived/);
    expect(latencyFailures(latencyRows(2, 'w', 20_000, [round(4, [1, 2, 3, 4])], [round(4, [2, 2, 2, 8])]))).toEqual(
      []
    );
  });

  it('prints a complete row as before', () => {
    const rows = latencyRows(2, 'w', 20_000, [round(4, [1, 2, 3, 4])], [round(4, [2, 2, 2, 8])]);
    expect(formatLatency(rows, ['n']).split('\n')).toEqual([
      '## Row 1, propagation latency: w',
      '- n',
      '',
      '| variant | writes | applied / expected | median ms | p99 ms | max ms | ratio p50 | ratio p99 |',
      '|---|---|---|---|---|---|---|---|',
      '| tabula (window.tabula.put → records event) | 4 | 4 / 4 | 2.0 | 4.0 | 4.0 | 1.00× | 0.50× |',
      '| y-webrtc 10.3.0 (Y.Map set → observe) (comparator) | 4 | 4 / 4 | 2.0 | 8.0 | 8.0 | 1.00× | 1.00× |',
      'target: p99 ≤ 1.0× y-webrtc, while Tabula also signs, verifies and persists'
    ]);
  });

  it('a tab count that could not run is in the failures (the results notRun); the others are kept', async () => {
    const printed: string[] = [];
    const runner = new RowRunner((l) => printed.push(l));
    const kept: string[] = [];
    await tabCountRows(
      runner,
      [2, 4, 8],
      async (tabs) => {
        if (tabs === 4) throw new Error('devices did not connect');
        return { rows: [], table: `table ${tabs}`, profiles: {} };
      },
      (out) => kept.push(out.table)
    );
    expect(kept).toEqual(['table 2', 'table 8']);
    expect(runner.failures.map((f) => f.row)).toEqual(['Row 1, propagation latency: 4 tabs']);
    expect(printed).toEqual([
      expect.stringMatching(/^## Row 1, propagation latency: 4 tabs: NOT RUN .*did not connect/)
    ]);
  });
});
