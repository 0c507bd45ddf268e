// What a reader sees while an ingest is being written to the store. Ledger.ingest moves the
// FeedSet (planFeeds), writes the batch (store.ingest, awaited) and only then applies it to the
// state. A reader in between (the worker serves page calls at any await) saw heads and an entry
// count that covered the batch while get()/records() did not show it yet: an app that waited for
// a head, or a count, and then read the key got the old value (an e2e catch-up test once read
// 768 records after the heads showed all 1,000). heads(), head() and stats() now show what the
// state holds until the batch is applied.
import { describe, expect, it } from 'vitest';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { GatedIngestStore } from '../helpers/gated-store.js';
import { toHex } from '../../src/lib/core/bytes.js';

describe('reads during an ingest', () => {
  it('heads, head and the entry count never lead the records', async () => {
    const a = await openLedger(memoryLocation(), 1);
    for (let i = 0; i < 5; i++) await a.ledger.put(`k${i}`, i);
    const store = new GatedIngestStore();
    const b = await openLedger(memoryLocation(), 2, { store });
    await b.ledger.ingest(a.log.slice(0, 2));
    const before = { heads: b.ledger.heads(), entries: b.ledger.stats({ digest: false }).entries };
    expect(before.entries).toBe(2);

    store.gate.hold();
    const ingest = b.ledger.ingest(a.log.slice(2));
    await store.gate.started; // the batch is being written; the state does not hold it yet
    expect(b.ledger.records().map((r) => r.key)).toEqual(['k0', 'k1']);
    expect(b.ledger.heads()).toEqual(before.heads);
    const hex = before.heads[0].author;
    expect(b.ledger.head(hex)).toEqual(before.heads[0]);
    expect(b.ledger.stats({ digest: false }).entries).toBe(2);
    store.gate.letGo();
    const report = await ingest;
    expect(report.rejected).toEqual([]);
    expect(b.ledger.records().map((r) => r.key)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    expect(b.ledger.heads()).toEqual(a.ledger.heads());
    expect(b.ledger.stats({ digest: false }).entries).toBe(5);
    await a.ledger.close();
    await b.ledger.close();
  });

  it('a failed write of the batch leaves the shown heads where they were', async () => {
    const a = await openLedger(memoryLocation(), 1);
    for (let i = 0; i < 3; i++) await a.ledger.put(`k${i}`, i);
    const store = new GatedIngestStore();
    const b = await openLedger(memoryLocation(), 2, { store });
    const orig = store.ingest.bind(store);
    let fail = true;
    store.ingest = async (entries) => {
      if (fail) {
        fail = false;
        throw new Error('disk gone');
      }
      return orig(entries);
    };
    await expect(b.ledger.ingest(a.log)).rejects.toThrow('disk gone');
    expect(b.ledger.heads()).toEqual([]);
    expect(b.ledger.stats({ digest: false }).entries).toBe(0);
    await b.ledger.ingest(a.log);
    expect(b.ledger.heads()).toEqual(a.ledger.heads());
    await a.ledger.close();
    await b.ledger.close();
  });

  it('a fork in the batch: forks, isForked, voidFrom, voidTop and the forked count show it only once the batch is applied', async () => {
    const a = await openLedger(memoryLocation(), 7);
    for (let i = 0; i < 3; i++) await a.ledger.put(`k${i}`, i);
    const twin = await openLedger(memoryLocation(), 7); // the same key signs another seq 2
    await twin.ledger.put('t0', 0);
    await twin.ledger.put('t1', 1);
    const store = new GatedIngestStore();
    const b = await openLedger(memoryLocation(), 8, { store });
    await b.ledger.ingest(a.log);
    const author = b.ledger.heads()[0].author;
    const before = {
      forks: b.ledger.forks(),
      forked: b.ledger.isForked(author),
      voidFrom: b.ledger.voidFrom(author),
      voidTop: b.ledger.voidTop(author),
      stats: b.ledger.stats({ digest: false })
    };
    expect(before.forked).toBe(false);

    // The fork comes with another author's entry: that one is written (the evidence is stored after).
    const c = await openLedger(memoryLocation(), 9);
    await c.ledger.put('c0', 0);
    store.gate.hold();
    const ingest = b.ledger.ingest([twin.log[1], c.log[0]]);
    await store.gate.started; // the batch is being written; the state still holds k2
    expect(b.ledger.records().map((r) => r.key)).toEqual(['k0', 'k1', 'k2']);
    expect(b.ledger.forks()).toEqual(before.forks);
    expect(b.ledger.isForked(author)).toBe(false);
    expect(b.ledger.voidFrom(author)).toBeUndefined();
    expect(b.ledger.voidTop(author)).toBeUndefined();
    const mid = b.ledger.stats({ digest: false });
    expect([mid.forkedAuthors, mid.entries, mid.pending, mid.pendingBytes]).toEqual([
      before.stats.forkedAuthors,
      before.stats.entries,
      before.stats.pending,
      before.stats.pendingBytes
    ]);
    // What the next ingest plans against is the FeedSet's own view: void from 2.
    expect(b.ledger.chainVoidTop(author)).toEqual({ seq: 1, hash: toHex(a.log[0].hash) });
    store.gate.letGo();
    await ingest;
    expect(b.ledger.forks().map((f) => [f.author, f.seq])).toEqual([[author, 2]]);
    expect(b.ledger.isForked(author)).toBe(true);
    expect(b.ledger.voidFrom(author)).toBe(2);
    expect(b.ledger.voidTop(author)).toEqual({ seq: 1, hash: toHex(a.log[0].hash) });
    expect(b.ledger.stats({ digest: false }).forkedAuthors).toBe(1);
    for (const l of [a, twin, b, c]) await l.ledger.close();
  });
});
