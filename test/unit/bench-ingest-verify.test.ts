// Row 4 of the bench (bench/browser/ingest.ts) runs the same entries through several receivers in
// one worker: the Dexie-store ingest, the memory-store ingest and, later, a profile of the Dexie
// ingest alone. Each stands for a node that has not seen these entries, so each must verify every
// signature. The process-wide verified-entries cache (src/lib/core/verified-entries.ts) let every
// receiver after the first skip all of them: the memory-store figure and the row 4 profile were
// measured without signature verification.
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { benchIngest } from '../../bench/browser/ingest.js';

describe('bench row 4: every ingest variant verifies every entry', () => {
  afterEach(() => vi.restoreAllMocks());

  it('bare verify, Dexie ingest and memory ingest each verify all entries; so does the profile run', async () => {
    const count = 40;
    const verify = vi.spyOn(globalThis.crypto.subtle, 'verify');
    const out = await benchIngest({ count, authors: 2, chunk: 20 });
    expect(out.series.map((s) => s.ms.length * s.perSample)).toEqual([count, count, count]);
    // The comparator's verifications plus the two ingests' own (opening a ledger may add one).
    expect(verify.mock.calls.length).toBeGreaterThanOrEqual(3 * count);
    verify.mockClear();
    await benchIngest({ count, authors: 2, chunk: 20, dexieOnly: 1 });
    expect(verify.mock.calls.length).toBeGreaterThanOrEqual(count);
  });
});
