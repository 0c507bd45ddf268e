// `npm run bench` must not print a rate, a ratio or a clean row for work that was partial.
// Row 4 (bench/browser/ingest.ts) checked only `rejected`: a chunk whose entries were held as
// pending, dropped or taken as duplicates still counted as ingested at full rate. Row 7
// (bench/browser/row7.ts) reported a second device that did not catch up in its table but not as
// FAILED: the row passed (exit 0) with the heap and long tasks of a partial sync.
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { benchIngest } from '../../bench/browser/ingest.js';
import { row7Failures, type PhaseHealth, type Row7Result } from '../../bench/browser/row7.js';
import { Ledger } from '../../src/lib/core/ledger.js';

describe('bench row 4: a rate only for entries ingested in full', () => {
  afterEach(() => vi.restoreAllMocks());

  it('a chunk that leaves an entry pending fails the row instead of counting it ingested', async () => {
    const ingest = Ledger.prototype.ingest;
    vi.spyOn(Ledger.prototype, 'ingest').mockImplementation(async function (this: Ledger, ...args) {
      const report = await ingest.apply(this, args);
      // As if one entry of the chunk waited for a predecessor instead of being stored.
      return { ...report, added: report.added - 1, pending: report.pending + 1 };
    });
    await expect(benchIngest({ count: 20, authors: 2, chunk: 10 })).rejects.toThrow(/stored 9 of 10 entries/);
  });

  it('a complete ingest still measures every variant', async () => {
    const out = await benchIngest({ count: 20, authors: 2, chunk: 10 });
    expect(out.series.map((s) => s.ms.length * s.perSample)).toEqual([20, 20, 20]);
  });
});

const phase = (entries: number): PhaseHealth => ({
  entries,
  ms: 60_000,
  heapPeakMB: 90,
  heapMaxAfterGcMB: 40,
  heapGcSamples: 12,
  heapAfterGcMB: 38,
  page: { heapPeakMB: 20, heapMaxAfterGcMB: 12, heapAfterGcMB: 11 },
  longTasks: { count: 0, longestMs: 0, over50ms: 0, profile: { count: 0, longestMs: 0, totalMs: 0, top: [] } }
});

function row7(joinerEntries: number, caughtUp: boolean, filled = 1000): Row7Result {
  return {
    entries: 1000,
    inFlight: 100,
    valueBytes: 256,
    fill: { ...phase(filled), perSec: 500 },
    serving: phase(1000),
    joiner: { ...phase(joinerEntries), caughtUp, perSec: 20, firstWebrtcMs: 900 }
  };
}

describe('bench row 7: a partial sync fails the row', () => {
  it('a second device that did not catch up is a failure of the row (its table is kept)', () => {
    const f = row7Failures(row7(400, false));
    expect(f).toHaveLength(1);
    expect(f[0]).toMatch(/did not catch up \(400\/1000 entries/);
  });

  it('a full replica that does not hold every entry written is a failure too', () => {
    expect(row7Failures(row7(1000, true, 990))[0]).toMatch(/holds 990 of the 1000 entries/);
  });

  it('a complete row has no failure', () => {
    expect(row7Failures(row7(1000, true))).toEqual([]);
  });
});
