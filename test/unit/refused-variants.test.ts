// RefusedVariants (src/lib/core/refused-variants.ts): refused entries remembered as possible fork
// variants within a fair share per author (bytes, then count), and kept in the store's meta rows
// across a restart (verified again when read back).
import { describe, expect, it } from 'vitest';
import { createEntry, decodeEntry, encodeEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { heldEntryBytes } from '../../src/lib/core/feeds.js';
import { MemoryDisk, MemoryLedgerStore } from '../../src/lib/core/memory-store.js';
import { RefusedVariants, REFUSED_VARIANTS_META } from '../../src/lib/core/refused-variants.js';
import { verifyIncoming } from '../../src/lib/core/ledger-ingest.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import type { HashedEntry, IdentityKeys } from '../../src/lib/core/types.js';
import { keysFromByte, makeChain, yUpdateAt } from '../helpers/ledger-fixtures.js';
import { dexieLocation, genesis, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { networkId } from '../../src/lib/core/genesis.js';

const net = networkId(genesis);

/** A validly signed entry of `keys` at `seq` (prev made up) with a payload of about `size` bytes. */
async function variant(keys: IdentityKeys, seq: number, size: number, fill = 7): Promise<HashedEntry> {
  const payload = yUpdateAt('x', 'v'.repeat(size), clientIdOf(toHex(keys.publicKey)), 1);
  return createEntry({ keys, seq, prev: new Uint8Array(32).fill(fill), lamport: seq, time: 1, clock: 2, payload }, net);
}

const verify = async (bytes: Uint8Array) => {
  const v = await verifyIncoming(bytes, net, genesis);
  return v.ok ? v.h : undefined;
};

const hex = (h: HashedEntry) => toHex(h.entry.author);

describe('RefusedVariants fair share', () => {
  it('a flood of keys holding as much as or more than a remembered author does not push it out', async () => {
    const E = await variant(await keysFromByte(1), 2, 1_000);
    const rv = new RefusedVariants(20_000, 100);
    expect(rv.add(E)).toBe(true);
    let kept = 0;
    for (let k = 0; k < 40; k++) if (rv.add(await variant(await keysFromByte(10 + k), 2, 1_000 + k * 10))) kept++;
    const other = await variant(await keysFromByte(1), 2, 10, 8);
    expect(rv.other(hex(E), 2, other.hash)?.hash).toEqual(E.hash);
    expect(kept).toBeLessThan(40); // the cap held: newcomers did not fit
    expect(rv.size.bytes).toBeLessThanOrEqual(20_000);
  });

  it('a newcomer of an author holding less evicts the biggest holder (its highest seq), not the oldest', async () => {
    const big = await keysFromByte(2);
    const rv = new RefusedVariants(heldEntryBytes(await variant(big, 2, 3_000)) * 3, 100);
    const b2 = await variant(big, 2, 3_000);
    const b3 = await variant(big, 3, 3_000);
    const small = await variant(await keysFromByte(3), 2, 100);
    expect([rv.add(b2), rv.add(b3), rv.add(small)]).toEqual([true, true, true]);
    const small2 = await variant(await keysFromByte(4), 2, 2_900);
    expect(rv.add(small2)).toBe(true);
    expect(rv.other(hex(b2), 3, new Uint8Array(32))).toBeUndefined(); // b3 went
    expect(rv.other(hex(b2), 2, new Uint8Array(32))?.hash).toEqual(b2.hash);
    expect(rv.other(hex(small), 2, new Uint8Array(32))?.hash).toEqual(small.hash);
  });

  it('holds at most maxCount entries', async () => {
    const rv = new RefusedVariants(1 << 30, 5);
    for (let k = 0; k < 8; k++) rv.add(await variant(await keysFromByte(20 + k), 2, 50));
    expect(rv.size.count).toBe(5);
  });
});

describe('RefusedVariants in the store', () => {
  it('flush writes one row per remembered entry, load reads them back (verified); evicted rows go', async () => {
    const disk = new MemoryDisk();
    const store = new MemoryLedgerStore({ disk });
    const rv = new RefusedVariants(1 << 30, 2);
    const [a, b, c] = await Promise.all([30, 31, 32].map(async (k, i) => variant(await keysFromByte(k), 2, 100 + i)));
    rv.add(a, false);
    rv.add(b);
    await rv.flush(store);
    expect(rv.add(c)).toBe(false); // full (2 entries), and c's author would hold more than either
    await rv.flush(store);
    const again = new RefusedVariants(1 << 30, 2);
    await again.load(store, verify);
    const held = (x: HashedEntry) => again.other(hex(x), 2, new Uint8Array(32))?.hash;
    expect([held(a), held(b)]).toEqual([a.hash, b.hash]);
    expect(held(c)).toBeUndefined();
    expect(again.all().map((h) => h.hash)).toEqual([b.hash]); // recheck survives
    expect(await store.getMeta(REFUSED_VARIANTS_META)).toBe(2);
  });

  it('a row that does not verify is dropped at load and deleted by the next flush', async () => {
    const store = new MemoryLedgerStore({ disk: new MemoryDisk() });
    const rv = new RefusedVariants();
    const a = await variant(await keysFromByte(40), 2, 100);
    const b = await variant(await keysFromByte(41), 2, 100);
    rv.add(a);
    rv.add(b);
    await rv.flush(store);
    const bytes = encodeEntry(b.entry);
    bytes[bytes.length - 1] ^= 1; // the signature no longer holds
    expect(() => decodeEntry(bytes, genesis.maxEntryBytes)).not.toThrow();
    await store.setMeta('refused-variant:1', { entry: bytes, recheck: true });
    const again = new RefusedVariants();
    await again.load(store, verify);
    expect(again.size.count).toBe(1);
    await again.flush(store);
    expect(await store.getMeta('refused-variant:1')).toBeUndefined();
    const c = await variant(await keysFromByte(42), 2, 100);
    again.add(c); // reuses the free slot
    await again.flush(store);
    expect(await store.getMeta(REFUSED_VARIANTS_META)).toBe(2);
  });

  it('a failed write is kept and written by the next flush', async () => {
    const store = new MemoryLedgerStore({ disk: new MemoryDisk() });
    let fail = true;
    const flaky = {
      getMeta: (k: string) => store.getMeta(k),
      deleteMeta: (k: string) => store.deleteMeta(k),
      setMeta: async (k: string, v: unknown) => {
        if (fail) throw new Error('quota');
        await store.setMeta(k, v);
      }
    };
    const rv = new RefusedVariants();
    const a = await variant(await keysFromByte(43), 2, 100);
    rv.add(a);
    await rv.flush(flaky);
    expect(await store.getMeta('refused-variant:0')).toBeUndefined();
    fail = false;
    await rv.flush(flaky);
    const again = new RefusedVariants();
    await again.load(store, verify);
    expect(again.other(hex(a), 2, new Uint8Array(32))?.hash).toEqual(a.hash);
  });
});

describe('a ledger keeps remembered variants across a reopen', () => {
  for (const [kind, loc] of [
    ['memory', memoryLocation],
    ['dexie', dexieLocation]
  ] as const) {
    it(`${kind} store: a broken chain remembered before the reopen is fork evidence after it`, async () => {
      const where = loc();
      let N = await openLedger(where, 60, { compactEvery: 0 });
      const keys = await keysFromByte(61);
      const e = toHex(keys.publicKey);
      const [e1] = await makeChain(keys, 1, N.ledger.networkId);
      const v2 = (fill: number) =>
        createEntry(
          {
            keys,
            seq: 2,
            prev: new Uint8Array(32).fill(fill),
            lamport: 2,
            time: e1.entry.time + fill,
            clock: 2,
            payload: yUpdateAt('x', fill, clientIdOf(e), 1)
          },
          N.ledger.networkId
        );
      await N.ledger.ingest([e1]);
      expect((await N.ledger.ingest([await v2(1)])).rejected.map((r) => r.code)).toEqual(['broken-chain']);
      await N.ledger.close();
      N = await openLedger(where, 60, { compactEvery: 0 });
      await N.ledger.ingest([await v2(2)]);
      expect(N.ledger.voidFrom(e)).toBe(2);
      await N.ledger.close();
    });
  }
});
