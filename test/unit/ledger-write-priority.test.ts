// A local write is not held behind a backlog of replication (step-queue.ts through Ledger): a
// write group runs before replicated ingest steps queued ahead of it, never before a barrier, and
// replication still gets every other step while writes keep coming. The result equals first-come
// order: same records, heads and digest as a node that took the same entries in another order.
import { describe, expect, it } from 'vitest';
import { encodeEntry } from '../../src/lib/core/entry.js';
import type { Ledger } from '../../src/lib/core/ledger.js';
import { MemoryLedgerStore } from '../../src/lib/core/memory-store.js';
import type { IngestResult } from '../../src/lib/core/storage.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { ledgerView, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { untilImmediate as until } from '../helpers/poll.js';

/** A memory store that logs what it stores ('i' ingest, 'w' local write) and can hold ingests at a gate. */
class OrderStore extends MemoryLedgerStore {
  log: string[] = [];
  ingests = 0;
  private gate: Promise<void> | null = null;
  private unblock: (() => void) | null = null;
  /** Called when a local write group is stored (after logging it). */
  onWrite: () => void = () => undefined;
  hold(): void {
    this.gate = new Promise((r) => (this.unblock = r));
  }
  release(): void {
    this.gate = null;
    this.unblock?.();
  }
  override async ingest(batch: readonly HashedEntry[]): Promise<IngestResult> {
    this.ingests++;
    if (this.gate) await this.gate;
    this.log.push(`i${batch[0]!.entry.seq}`);
    return super.ingest(batch);
  }
  override async appendLocal(h: HashedEntry): Promise<void> {
    this.log.push(`w${h.entry.seq}`);
    this.onWrite();
    return super.appendLocal(h);
  }
  override async appendLocalBatch(batch: readonly HashedEntry[]): Promise<void> {
    this.log.push(`w${batch[0]!.entry.seq}`);
    this.onWrite();
    return super.appendLocalBatch(batch);
  }
}

/**
 * The first entry of `n` authors' feeds, encoded: independent entries, so each ingest step stores
 * its own whatever order their (concurrent) verifications queue them in.
 */
async function firstEntries(n: number, key?: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let a = 0; a < n; a++) {
    const w = await openLedger(memoryLocation(), 10 + a, { compactEvery: 0 });
    await w.ledger.put(key ?? `f${a}`, a);
    await w.ledger.close();
    out.push(encodeEntry(w.log[0]!.entry));
  }
  return out;
}

/** Waits until `n` steps wait in the ledger's queue (its private step queue). */
async function untilQueued(l: Ledger, n: number): Promise<void> {
  const steps = (l as unknown as { steps: { size: number } }).steps;
  await until(() => steps.size >= n);
}

/**
 * Holds the store's ingests, starts one ingest step per entry (the first runs and waits at the
 * gate, the others wait in the queue) and returns their promises once all are queued.
 */
async function ingestsHeld(
  r: { ledger: Ledger },
  store: OrderStore,
  entries: Uint8Array[]
): Promise<Promise<unknown>[]> {
  store.hold();
  const steps = [r.ledger.ingest([entries[0]!])];
  await until(() => store.ingests === 1); // the first step runs, held at the gate
  for (const e of entries.slice(1)) steps.push(r.ledger.ingest([e]));
  await untilQueued(r.ledger, entries.length - 1);
  return steps;
}

describe('ledger queue: local writes before queued replication', () => {
  it('a write requested behind four queued ingest steps is stored before them; the oldest runs next', async () => {
    const entries = await firstEntries(5);
    const store = new OrderStore();
    const r = await openLedger(memoryLocation(), 1, { store, compactEvery: 0 });
    const ingests = await ingestsHeld(r, store, entries);
    const write = r.ledger.put('mine', 'now');
    await untilQueued(r.ledger, 5);
    store.release();
    await Promise.all([...ingests, write]);
    expect(store.log).toEqual(['i1', 'w1', 'i1', 'i1', 'i1', 'i1']);
    expect(r.ledger.stats().queue.overtakes).toBe(1);
    expect(r.ledger.get('mine')).toBe('now');
    expect(r.ledger.heads().map((h) => h.seq)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('never before a barrier: a compaction queued between the ingests and the write keeps the write behind it', async () => {
    const entries = await firstEntries(3);
    const store = new OrderStore();
    const r = await openLedger(memoryLocation(), 1, { store, compactEvery: 0 });
    store.hold();
    const first = r.ledger.ingest([entries[0]!]);
    await until(() => store.ingests === 1);
    const second = r.ledger.ingest([entries[1]!]);
    await untilQueued(r.ledger, 1);
    const compacted = r.ledger.compact();
    const write = r.ledger.put('mine', 1);
    const third = r.ledger.ingest([entries[2]!]);
    await untilQueued(r.ledger, 4);
    store.release();
    await Promise.all([first, second, compacted, write, third]);
    expect(store.log).toEqual(['i1', 'i1', 'w1', 'i1']);
    // The compaction ran after the two ingests and before the write: it covers their two feeds, not ours.
    const covered = (await store.loadCompaction())?.heads.map((h) => h.author).sort();
    expect(covered).not.toContain(r.ledger.author);
    expect(covered).toHaveLength(2);
    expect(r.ledger.stats().queue.overtakes).toBe(0);
  });

  it('under a steady stream of writes replication still gets every other step, and the node ends as one fed in order', async () => {
    const entries = await firstEntries(6);
    const store = new OrderStore();
    const r = await openLedger(memoryLocation(), 1, { store, compactEvery: 0 });
    // Each stored write group requests the next write at once (a writer that never pauses), 5 in all.
    let writes = 0;
    const pending: Promise<unknown>[] = [];
    store.onWrite = () => {
      if (++writes < 5) pending.push(r.ledger.put(`w${writes}`, writes));
    };
    const ingests = await ingestsHeld(r, store, entries);
    pending.push(r.ledger.put('w0', 0));
    await untilQueued(r.ledger, 6);
    store.release();
    await Promise.all(ingests);
    while (writes < 5) await Promise.all([...pending]);
    await Promise.all(pending);
    // Writes alternate with ingests; never two write steps while an ingest waits.
    expect(store.log).toEqual(['i1', 'w1', 'i1', 'w2', 'i1', 'w3', 'i1', 'w4', 'i1', 'w5', 'i1']);
    expect(r.ledger.stats().queue.overtakes).toBe(5);
    // Same state as a node given the same entries first come first served.
    const mine = r.log.filter((h) => h.entry.author.every((b, i) => b === r.keys.publicKey[i]));
    const other = await openLedger(memoryLocation(), 3, { compactEvery: 0 });
    await other.ledger.ingest(entries);
    await other.ledger.ingest(mine.map((h) => encodeEntry(h.entry)));
    const v = ledgerView(r.ledger);
    const o = ledgerView(other.ledger);
    expect(o.records).toBe(v.records);
    expect(o.digest).toBe(v.digest);
  });

  it('a write that went first equals the same requests in first-come order with the write queued first (same key written by both sides)', async () => {
    const entries = await firstEntries(4, 'shared');
    const store = new OrderStore();
    const r = await openLedger(memoryLocation(), 1, { store, compactEvery: 0 });
    const ingests = await ingestsHeld(r, store, entries);
    const write = r.ledger.put('shared', 'mine');
    await untilQueued(r.ledger, 4);
    store.release();
    await Promise.all([...ingests, write]);
    expect(store.log).toEqual(['i1', 'w1', 'i1', 'i1', 'i1']);
    // The same requests one after another, the write right after the first ingest.
    const ref = await openLedger(memoryLocation(), 1, { compactEvery: 0 });
    await ref.ledger.ingest([entries[0]!]);
    await ref.ledger.put('shared', 'mine');
    for (const e of entries.slice(1)) await ref.ledger.ingest([e]);
    const own = (t: typeof r) => t.log.filter((h) => h.entry.author.every((b, i) => b === t.keys.publicKey[i]));
    expect(own(r)).toHaveLength(1);
    // The signed entry (seq, prev, lamport, deps, clock, payload) is the same bytes.
    expect(encodeEntry(own(r)[0]!.entry)).toEqual(encodeEntry(own(ref)[0]!.entry));
    expect(ledgerView(r.ledger)).toEqual(ledgerView(ref.ledger));
    expect(r.ledger.get('shared')).toEqual(ref.ledger.get('shared'));
  });
});
