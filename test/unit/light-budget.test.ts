// Light replicas (issue 9, roles): the entries held stay within the storage budget over
// thousands of writes, the state stays whole, a reopen agrees, and an entry that names a pruned
// seq of another feed as its dependency is still judged by the causal rules (kept headers).
import { describe, expect, it } from 'vitest';
import { memoryLocation, dexieLocation, openLedger, type Location } from '../helpers/ledger-nodes.js';
import { ledgerReplica } from '../../src/lib/core/sync/ledger-replica.js';

const BUDGET = 24 * 1024;

/** A light replica that receives `writes` entries of another author (it never prunes its own feed). */
async function fillLight(loc: Location, writes: number) {
  const node = await openLedger(loc, 61, { role: 'light', budgetBytes: BUDGET, compactEvery: 64 });
  const writer = await openLedger(memoryLocation(), 60);
  let peak = 0;
  for (let i = 0; i < writes; i++) {
    const h = await writer.ledger.put(`k${i % 300}`, { i, pad: 'x'.repeat(40) });
    await node.ledger.ingest([h]);
    // Over budget, the node compacts and prunes right after the write: at most one entry over.
    peak = Math.max(peak, node.ledger.stats({ digest: false }).storage.bytesUsed);
  }
  await writer.ledger.close();
  return { node, peak, writer: writer.ledger.author };
}

describe('light replica storage budget', () => {
  for (const make of [memoryLocation, dexieLocation]) {
    it(`stays within its budget over 2,000 writes and keeps its state (${make().kind})`, async () => {
      const loc = make();
      const { node, peak, writer } = await fillLight(loc, 2000);
      const { ledger, store } = node;
      const s = ledger.stats();
      expect(s.storage.role).toBe('light');
      expect(s.storage.budgetBytes).toBe(BUDGET);
      expect(peak).toBeLessThanOrEqual(BUDGET + 400); // one entry here is ~250 B
      expect(s.storage.pruned).toBeGreaterThan(1000);
      expect(await store.count()).toBe(2000 - s.storage.pruned);
      expect(s.entries).toBe(2000); // heads still count the whole feed
      const records = ledger.records();
      expect(records).toHaveLength(300);
      expect(ledger.get('k299')).toEqual({ i: 1999 - 200, pad: 'x'.repeat(40) });
      const digest = s.stateDigest;
      // The coverage a light replica announces starts at its lowest held seq.
      const cov = ledgerReplica(ledger).coverage();
      expect(cov).toEqual([{ author: writer, from: 2000 - (await store.count()) + 1 }]);
      await ledger.close();

      const again = await openLedger(loc, 61, { role: 'light', budgetBytes: BUDGET, compactEvery: 64 });
      expect(again.ledger.stats().stateDigest).toBe(digest);
      expect(again.ledger.records()).toEqual(records);
      expect(again.ledger.stats().storage.bytesUsed).toBe(s.storage.bytesUsed);
      await again.ledger.put('after', 1); // writes go on after a reopen
      expect(again.ledger.get('after')).toBe(1);
      await again.ledger.close();
    }, 120_000);
  }

  it('a full replica never prunes', async () => {
    const full = await openLedger(memoryLocation(), 62, { compactEvery: 64 });
    for (let i = 0; i < 300; i++) await full.ledger.put(`k${i}`, 'x'.repeat(100));
    expect(await full.store.count()).toBe(300);
    expect(full.ledger.stats().storage).toEqual({ role: 'full', budgetBytes: null, bytesUsed: 0, pruned: 0 });
    expect(ledgerReplica(full.ledger).role).toBe('full');
    expect(ledgerReplica(full.ledger).coverage()).toEqual([]);
  });

  it('an entry depending on a pruned seq of another feed is still admitted (headers kept)', async () => {
    // A writes 400 entries; C saw only A's first 10 and overwrites A's k3 (written at seq 4):
    // C's entry names A:10 as its dependency. The light node got all of A and pruned A:10.
    const a = await openLedger(memoryLocation(), 63, { compactEvery: 0 });
    for (let i = 0; i < 400; i++) await a.ledger.put(i < 10 ? `k${i}` : `later${i}`, 'y'.repeat(60));
    const c = await openLedger(memoryLocation(), 64, { compactEvery: 0 });
    expect((await c.ledger.ingest(a.log.slice(0, 10))).added).toBe(10);
    const mine = await c.ledger.put('k3', 'overwritten by C');
    expect(mine.entry.deps).toEqual([{ author: a.ledger.author, seq: 10 }]);

    const light = await openLedger(memoryLocation(), 65, { role: 'light', budgetBytes: 8 * 1024, compactEvery: 64 });
    for (let i = 0; i < a.log.length; i += 50) await light.ledger.ingest(a.log.slice(i, i + 50));
    await light.ledger.compact();
    expect(await light.store.getEntry(a.ledger.author, 10)).toBeUndefined(); // pruned
    const r = await light.ledger.ingest([mine]);
    expect(r.rejected).toEqual([]);
    expect(r.added).toBe(1);
    expect(light.ledger.get('k3')).toBe('overwritten by C');
  });

  it('never prunes its own feed: its entries may exist nowhere else until a peer fetched them', async () => {
    const own = await openLedger(memoryLocation(), 63, { role: 'light', budgetBytes: 4096, compactEvery: 16 });
    for (let i = 0; i < 200; i++) await own.ledger.put(`k${i % 20}`, 'x'.repeat(40));
    expect(own.ledger.stats().storage.pruned).toBe(0);
    expect(await own.store.count()).toBe(200);
    await own.ledger.close();
  });
});
