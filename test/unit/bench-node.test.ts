// The Node half of `npm run bench` (review findings): a Node bench that throws is recorded as not
// run and the next still runs (before, the first throw ended the bench before any results file);
// row 6 prints no ratio and no "met" for a catch-up that stalled (before, a partial transfer read
// as met); BENCH_1M=0 leaves the 1M rows off; BENCH_SCALE scales every row-3 size; the results
// file is named after the commit the run started at (it was HEAD when the results were written).
import { describe, expect, it } from 'vitest';
import { catchUpSetup } from '../helpers/bench-fixtures.js';
import { benchExitStatus, runNodeBenches } from '../../bench/node-benches.js';
import { RowRunner } from '../../bench/browser/rows.js';
import {
  catchUpVerdict,
  formatCatchUp,
  notCaughtUp,
  summarizeCatchUp,
  type CatchUpResult,
  type CatchUpRun
} from '../../bench/catch-up.js';
import { ROW4_CHUNK, envFlag, row3Plan, row4Count } from '../../bench/knobs.js';
import { runCommits } from '../../bench/results.js';

describe('bench: the Node benches', () => {
  it('records a throwing bench as not run, still runs the next ones, and exits 1 only then', async () => {
    const printed: string[] = [];
    const ran: string[] = [];
    const bench = (row: string, fail = false) => ({
      row,
      title: `# ${row}`,
      run: async () => {
        ran.push(row);
        if (fail) throw new Error(`${row} broke`);
      }
    });
    const notRun = await runNodeBenches([bench('sign'), bench('reconcile', true), bench('row 6')], (l) =>
      printed.push(l)
    );
    expect(ran).toEqual(['sign', 'reconcile', 'row 6']);
    expect(notRun).toHaveLength(1);
    expect(notRun[0].row).toBe('reconcile');
    expect(notRun[0].error).toContain('reconcile broke');
    expect(printed.filter((l) => l.includes('NOT RUN'))).toHaveLength(1);
    expect(printed.find((l) => l.includes('NOT RUN'))).toMatch(/## reconcile: NOT RUN .*reconcile broke/);
    expect(printed).toContain('\n# row 6');
    expect(benchExitStatus(0, notRun)).toBe(1);
    expect(benchExitStatus(0, [])).toBe(0);
    expect(benchExitStatus(3, [])).toBe(3);
  });
});

/** A row 6 run: 4,000 of 10,000 missing entries arrived before the stall (a partial transfer). */
const stalledRun = (): CatchUpRun => ({
  toA: 20_000,
  toB: 820_000,
  messages: 40,
  byType: { entries: { messages: 20, bytes: 810_000 }, get: { messages: 20, bytes: 30_000 } },
  entryBytesCarried: 800_000,
  duplicates: 0,
  roundTripsMerkle: 4,
  ms: 61_000,
  caughtUp: false,
  received: 4_000
});

const setup = catchUpSetup;

/** A row 6 result of that one run. */
const stalled = (): CatchUpResult => summarizeCatchUp(setup, [stalledRun()]);

describe('bench: row 6 (catch-up) verdict', () => {
  it('prints no ratio and no "met" when the catch-up stalled', () => {
    const text = formatCatchUp(stalled());
    const syncRow = text.split('\n').find((l) => l.startsWith('| tabula sync'))!;
    expect(syncRow).not.toMatch(/\d×/);
    // The ratio to the missing entries (median / p99) and to refetching everything.
    expect(syncRow.match(/—/g)).toHaveLength(3);
    const target = text.split('\n').find((l) => l.startsWith('target:'))!;
    expect(target).toContain('NOT RUN');
    expect(target).not.toMatch(/\bmet\b/);
    expect(text).toContain('did NOT catch up');
    expect(catchUpVerdict(stalled())).toEqual({
      ratioToMissing: null,
      ratioToRefetch: null,
      met: false,
      verdict: 'NOT RUN'
    });
    expect(notCaughtUp([stalled()])).toEqual([
      'n = 100000, 100 authors: did not catch up (stalled after 4000 of 10000 missing entries; no ratio)'
    ]);
  });

  it('gives the ratios and met / missed when it caught up', () => {
    const done = summarizeCatchUp(setup, [{ ...stalledRun(), caughtUp: true, received: 10_000, toB: 2_300_000 }]);
    expect(catchUpVerdict(done)).toEqual({ ratioToMissing: 1.16, ratioToRefetch: 0.116, met: true, verdict: 'met' });
    expect(done).toMatchObject({ ratioToMissing: 1.16, ratioToRefetch: 0.116, met: true, verdict: 'met' });
    expect(formatCatchUp(done)).toContain('| 1.160× / 1.160× | 0.116× |');
    expect(formatCatchUp(done)).toContain('(met, on the median bytes)');
    expect(catchUpVerdict({ ...done, toB: 2_500_000 })).toMatchObject({ met: false, verdict: 'missed' });
    expect(notCaughtUp([done])).toEqual([]);
  });
});

describe('bench: knobs', () => {
  it('BENCH_1M turns the 1M rows on only for 1 or true', () => {
    expect([undefined, '', '0', 'false', 'no'].map(envFlag)).toEqual([false, false, false, false, false]);
    expect(['1', 'true', 'TRUE'].map(envFlag)).toEqual([true, true, true]);
  });

  it('BENCH_SCALE scales row 3 at batch 1,000 through the app page too', () => {
    expect(row3Plan(1)).toEqual([
      [1, 500, 500],
      [100, 30, 5],
      [1000, 5, 1]
    ]);
    expect(row3Plan(20)).toEqual([
      [1, 10_000, 10_000],
      [100, 600, 100],
      [1000, 100, 20]
    ]);
  });
});

describe('bench: the results file names the commit that ran', () => {
  it('is the commit the run started at, with the one at the end only when HEAD moved', () => {
    // A run started at 60a1ae6 and ended after 1a3e1e0 was merged: named 1a3e1e0 before.
    expect(runCommits('60a1ae6', '1a3e1e0')).toEqual({ commit: '60a1ae6', commitAtEnd: '1a3e1e0' });
    expect(runCommits('60a1ae6', '60a1ae6')).toEqual({ commit: '60a1ae6' });
    expect(runCommits('60a1ae6-dirty', '60a1ae6')).toEqual({ commit: '60a1ae6-dirty', commitAtEnd: '60a1ae6' });
    // Not started through startCommit (e.g. bench/cold-join.ts alone): HEAD now, as before.
    expect(runCommits(undefined, '1a3e1e0')).toEqual({ commit: '1a3e1e0' });
  });
});

describe('bench row 4: its workload is whole chunks', () => {
  it('ingests every entry it names: a partial last chunk was timed in no series', () => {
    expect(row4Count(1)).toBe(5000);
    expect(row4Count(20)).toBe(100_000);
    // BENCH_SCALE=0.25 named 1,250 entries and timed 2 chunks of 500 (1,000); 0.05 timed none.
    for (const scale of [0.25, 0.05, 0.33, 1.7]) {
      expect(row4Count(scale) % ROW4_CHUNK).toBe(0);
      expect(row4Count(scale)).toBeGreaterThanOrEqual(ROW4_CHUNK);
    }
  });
});

describe('bench: a Node bench given up while still running', () => {
  it('keeps the next Node benches from running beside it (they are NOT RUN, not measured under its load)', async () => {
    const printed: string[] = [];
    const ran: string[] = [];
    let release!: () => void;
    const hung = new Promise<void>((r) => (release = r));
    const benches = [
      { row: 'reconcile', title: '# reconcile', run: () => (ran.push('reconcile'), hung) },
      { row: 'row 6', title: '# row 6', run: async () => void ran.push('row 6') }
    ];
    const notRun = await runNodeBenches(benches, (l) => printed.push(l), new RowRunner((l) => printed.push(l), 30, 30));
    release();
    expect(ran).toEqual(['reconcile']);
    expect(notRun.map((f) => f.row)).toEqual(['reconcile', 'row 6']);
    expect(notRun[0].stillRunning).toBe(true);
    expect(notRun[1].error).toMatch(/reconcile was given up but is still running/);
  });

  it('a bench that threw (it stopped) does not keep the next from running', async () => {
    const ran: string[] = [];
    const notRun = await runNodeBenches(
      [
        { row: 'a', title: '# a', run: () => Promise.reject(new Error('broke')) },
        { row: 'b', title: '# b', run: async () => void ran.push('b') }
      ],
      () => undefined,
      new RowRunner(() => undefined, 1000, 30)
    );
    expect(ran).toEqual(['b']);
    expect(notRun.map((f) => f.row)).toEqual(['a']);
    expect(notRun[0].stillRunning).toBeUndefined();
  });
});
