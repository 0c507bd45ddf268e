// Ingest applies a batch in one Yjs transaction (apply-batch.ts), and the ledger compacts by bytes
// applied relative to the stored state (compaction-policy.ts) rather than every fixed count.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { compactionDue, compactionPolicy, DEFAULT_COMPACTION_POLICY } from '../../src/lib/core/compaction-policy.js';
import { MalformedPayloadError } from '../../src/lib/core/errors.js';
import { MemoryDisk, MemoryLedgerStore } from '../../src/lib/core/memory-store.js';
import { LedgerState } from '../../src/lib/core/state/doc.js';
import type { RecordChange } from '../../src/lib/core/state/records.js';
import type { Compaction } from '../../src/lib/core/storage.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import type { Ledger } from '../../src/lib/core/ledger.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

/** `n` entries of one author (written in concurrent groups of 200: group commit). */
async function feed(n: number, keyByte = 3, prefix = 'k'): Promise<HashedEntry[]> {
  const src = await openLedger(memoryLocation(), keyByte, { compactEvery: 0 });
  for (let i = 0; i < n; i += 200) {
    const count = Math.min(200, n - i);
    await Promise.all(Array.from({ length: count }, (_, j) => src.ledger.put(`${prefix}${i + j}`, `value ${i + j}`)));
  }
  await src.ledger.close();
  return src.log;
}

function countTransactions(ledger: Ledger): () => number {
  let n = 0;
  ledger.doc.on('afterTransaction', () => n++);
  return () => n;
}

describe('ingest: one Yjs transaction per batch', () => {
  afterEach(() => vi.restoreAllMocks());

  it('applies a batch of 60 entries in one transaction and one change event', async () => {
    const log = await feed(60);
    const dst = await openLedger(memoryLocation(), 4);
    const transactions = countTransactions(dst.ledger);
    const events: RecordChange[][] = [];
    dst.ledger.subscribe((c) => events.push(c));
    expect(await dst.ledger.ingest(log)).toMatchObject({ added: 60, rejected: [] });
    expect(transactions()).toBe(1);
    expect(events).toHaveLength(1);
    expect(events[0]).toHaveLength(60);
    expect(dst.ledger.records()).toHaveLength(60);
  });

  it('a refused payload ends the transaction; the rest apply in a new one and are kept', async () => {
    const [a, b] = [await feed(5, 3, 'a'), await feed(5, 7, 'b')];
    const dst = await openLedger(memoryLocation(), 4);
    const transactions = countTransactions(dst.ledger);
    const original = LedgerState.prototype.applyRemote;
    let calls = 0;
    vi.spyOn(LedgerState.prototype, 'applyRemote').mockImplementation(function (this: LedgerState, ...args) {
      if (++calls === 2) throw new MalformedPayloadError('refused by the test');
      return original.apply(this, args);
    });
    const report = await dst.ledger.ingest([...a, ...b]);
    expect(report.added).toBe(10); // stored: the refusal came after the store step
    expect(report.rejected).toEqual([expect.objectContaining({ seq: 2, code: 'malformed-payload' })]);
    expect(transactions()).toBe(2);
    // a1 applied; a2 refused (a3..a5 wait for its Yjs items, as when each entry had its own
    // transaction); every entry of b applied in the second transaction.
    expect(dst.ledger.records().map((r) => r.key)).toEqual(['a0', 'b0', 'b1', 'b2', 'b3', 'b4']);
    expect(dst.ledger.stats().skippedPayloads).toBe(1);
  });
});

describe('compaction policy', () => {
  it('is due after minEntries once the bytes since reach stateRatio of the stored state, or at maxEntries', () => {
    const p = { minEntries: 10, stateRatio: 0.5, maxEntries: 100 };
    expect(compactionDue(p, { entries: 9, bytes: 1e9 }, 0)).toBe(false);
    expect(compactionDue(p, { entries: 10, bytes: 0 }, 0)).toBe(true); // nothing stored yet
    expect(compactionDue(p, { entries: 50, bytes: 499 }, 1000)).toBe(false);
    expect(compactionDue(p, { entries: 50, bytes: 500 }, 1000)).toBe(true);
    expect(compactionDue(p, { entries: 100, bytes: 1 }, 1e9)).toBe(true);
    expect(compactionDue({ ...p, minEntries: 0 }, { entries: 1e9, bytes: 1e9 }, 0)).toBe(false);
  });

  it('compactEvery keeps its fixed count; the default is the byte policy', () => {
    expect(compactionPolicy(7)).toEqual({ minEntries: 7, stateRatio: 0, maxEntries: 7 });
    expect(compactionDue(compactionPolicy(7), { entries: 7, bytes: 0 }, 1e9)).toBe(true);
    expect(compactionPolicy(0).minEntries).toBe(0);
    expect(compactionPolicy()).toEqual(DEFAULT_COMPACTION_POLICY);
    expect(compactionPolicy(undefined, { maxEntries: 1 }).maxEntries).toBe(DEFAULT_COMPACTION_POLICY.minEntries);
  });

  it('a long ingest writes compacted state of at most a few times the final state, and reopens to the same state', async () => {
    const log = await feed(4000, 5);
    const disk = new MemoryDisk();
    const saved: number[] = [];
    class Counting extends MemoryLedgerStore {
      override async saveCompaction(c: Compaction): Promise<void> {
        saved.push(c.state.length);
        return super.saveCompaction(c);
      }
    }
    const dst = await openLedger(memoryLocation(disk), 6, { store: new Counting({ disk }) });
    for (let i = 0; i < log.length; i += 50) await dst.ledger.ingest(log.slice(i, i + 50));
    await dst.ledger.compact(); // the final state, for comparison
    const final = saved.pop()!;
    const total = saved.reduce((a, b) => a + b, 0);
    // A fixed count of 256 stores 13 states here, ~6.5× the final one; by bytes: ~5 states, ~2.2×.
    expect(saved.length).toBeGreaterThanOrEqual(3);
    expect(saved.length).toBeLessThanOrEqual(8);
    expect(total).toBeLessThanOrEqual(3 * final);
    const reopened = await openLedger(memoryLocation(disk), 6);
    expect(reopened.ledger.stats().stateDigest).toBe(dst.ledger.stats().stateDigest);
    expect(reopened.ledger.records()).toEqual(dst.ledger.records());
  });
});
