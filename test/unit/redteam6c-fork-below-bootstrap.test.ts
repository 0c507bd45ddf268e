// Red team 6c (void heads v2 + compaction seal v3; issue 6 "no signed entry can freeze or break a
// node", PROTOCOL.md §6.1.4, §10): a node whose history of author E begins in a light snapshot (or
// a join) holds E's head (say seq 10) without E's entries. E signs a second variant of a seq
// below that head (seq 4) and sends both variants: the node records the fork (two signed entries
// at one seq prove it), cannot rebuild, keeps the bootstrapped state and marks it unverified, as
// §6.1.4 says. Its next compaction (Ledger.appliedHeads) then records no head for E at all: the
// applied head of the void feed is seq 3, which the node does not hold, so E is skipped ("not held:
// the placeholder still covers the feed"); but no placeholder was applied (the header of seq 3 is
// unknown), and the state still holds E's items up to seq 10. On the next open checkCompaction
// finds E's clientID in the state with no compaction head: CorruptStoreError, at every open.
//
// Input: full node F holds E#1..10; fresh node L imports F's light snapshot; L ingests E#4 and a
//   re-signed variant E#4'; L writes once, compacts, closes, reopens.
//   Second case: F holds E#1, E#2 and a fork at 5 (canonical top 2, no placeholder); L imports it
//   (bootstrapped void head v(5, 2)), then E's two variants of seq 2 arrive (void from 2): the
//   applied head is none, the compaction again records nothing for E, and the state holds E#1..2.
//   Third case: L applied E#11, E#12 above its bootstrapped head before the fork: a compaction
//   recording the stored head (12) fails the clock check (the kept state ends at 10).
// Expected: L reopens (still unverified, E void from 4), with the same state digest.
// Actual (measured): the reopen fails with CorruptStoreError "the compacted state holds writes of
//   client …, which no head covers", for good: one fork by any author a light replica bootstrapped
//   bricks its store.
// Suggested fix: when a void feed's applied head is not held, the compaction records the head the
//   kept state still shows: the stored compaction's head of that feed; replay then finds the
//   compaction stale below the void, keeps it and the unverified mark, and the clock check uses
//   that head's header.
// Fixed (ledger.ts appliedHeads): as suggested.
import { describe, expect, it } from 'vitest';
import { collectBytes } from '../../src/lib/core/snapshot/index.js';
import { exportLedgerSnapshot, importLedgerSnapshot } from '../../src/lib/core/ledger-snapshots.js';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { keysFromByte, makeChain } from '../helpers/ledger-fixtures.js';
import { dexieLocation, memoryLocation, openLedger, type Location } from '../helpers/ledger-nodes.js';

/** Reopens the store at `loc`: its digest, unverified mark and `e`'s void seq, or why the open failed. */
async function reopened(loc: Location, keyByte: number, e: string) {
  return openLedger(loc, keyByte, { compactEvery: 0 }).then(
    async (x) => {
      const s = x.ledger.stats();
      const out = { digest: s.stateDigest, unverified: s.unverified, voidFrom: x.ledger.voidFrom(e) };
      await x.ledger.close();
      return out;
    },
    (err: Error) => `${err.name}: ${err.message}`
  );
}

describe('redteam6c: a fork below a head bootstrapped from a light snapshot', () => {
  it('does not make the store unopenable after the next compaction', async () => {
    const F = await openLedger(memoryLocation(), 71, { compactEvery: 0 });
    const net = F.ledger.networkId;
    const E = await keysFromByte(73);
    const e = toHex(E.publicKey);
    const chain = await makeChain(E, 10, net);
    await F.ledger.ingest(chain);
    const loc = memoryLocation();
    const L = await openLedger(loc, 74, { compactEvery: 0 });
    await importLedgerSnapshot(L.ledger, await collectBytes(exportLedgerSnapshot(F.ledger, 'light')));
    const alt4 = await createEntry({ ...chain[3].entry, keys: E, time: chain[3].entry.time + 7 }, net);
    const r = await L.ledger.ingest([chain[3], alt4]);
    expect(r.forks).toBe(1);
    expect(L.ledger.voidFrom(e)).toBe(4);
    await L.ledger.put('mine', 1);
    await L.ledger.compact();
    const before = L.ledger.stats();
    await L.ledger.close();

    const again = await reopened(loc, 74, e);
    expect(again).toEqual({ digest: before.stateDigest, unverified: true, voidFrom: 4 });
  });

  it('nor does a lower fork under a bootstrapped void head', async () => {
    const F = await openLedger(memoryLocation(), 75, { compactEvery: 0 });
    const net = F.ledger.networkId;
    const E = await keysFromByte(76);
    const e = toHex(E.publicKey);
    const chain = await makeChain(E, 5, net);
    const alt5 = await createEntry({ ...chain[4].entry, keys: E, time: chain[4].entry.time + 7 }, net);
    // Void from 5 with canonical top 2 (E#3, E#4 never seen): the state holds no placeholder.
    await F.ledger.ingest([chain[0], chain[1], chain[4], alt5]);
    const loc = memoryLocation();
    const L = await openLedger(loc, 77, { compactEvery: 0 });
    await importLedgerSnapshot(L.ledger, await collectBytes(exportLedgerSnapshot(F.ledger, 'light')));
    expect(L.ledger.voidTop(e)?.seq).toBe(2);
    const alt2 = await createEntry({ ...chain[1].entry, keys: E, time: chain[1].entry.time + 7 }, net);
    expect((await L.ledger.ingest([chain[1], alt2])).forks).toBe(1);
    expect(L.ledger.voidFrom(e)).toBe(2);
    await L.ledger.put('mine', 1);
    await L.ledger.compact();
    const before = L.ledger.stats();
    await L.ledger.close();

    const again = await reopened(loc, 77, e);
    expect(again).toEqual({ digest: before.stateDigest, unverified: true, voidFrom: 2 });
  });

  it.each(['memory', 'dexie'] as const)(
    'nor does it when entries above the bootstrapped head were applied before the fork (%s store)',
    async (kind) => {
      const F = await openLedger(memoryLocation(), 78, { compactEvery: 0 });
      const net = F.ledger.networkId;
      const E = await keysFromByte(79);
      const e = toHex(E.publicKey);
      const chain = await makeChain(E, 12, net);
      await F.ledger.ingest(chain.slice(0, 10));
      const loc = kind === 'memory' ? memoryLocation() : dexieLocation();
      const L = await openLedger(loc, 80, { compactEvery: 0 });
      await importLedgerSnapshot(L.ledger, await collectBytes(exportLedgerSnapshot(F.ledger, 'light')));
      expect((await L.ledger.ingest(chain.slice(10))).added).toBe(2); // E#11, E#12 applied
      const alt4 = await createEntry({ ...chain[3].entry, keys: E, time: chain[3].entry.time + 7 }, net);
      expect((await L.ledger.ingest([chain[3], alt4])).forks).toBe(1);
      await L.ledger.put('mine', 1);
      await L.ledger.compact();
      const before = L.ledger.stats();
      await L.ledger.close();

      const again = await reopened(loc, 80, e);
      expect(again).toEqual({ digest: before.stateDigest, unverified: true, voidFrom: 4 });
    }
  );
});
