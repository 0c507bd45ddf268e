// Red team 6c (void heads v2, PROTOCOL.md §6.1.2, §9, §13; issue 6 kind "no author's choice of key,
// clock or payload can make a node refuse, hide or rewrite another author's writes"): a light
// replica whose void head came from a light snapshot (or a join) with canonical top k < s - 1
// can never take the canonical entries k + 1 .. s - 1. Its feed's seq is the void seq (above
// every real seq), so FeedSet.ingest sends entry k + 1 to belowHead, the store does not hold it
// ("needs-lookup"), and planFeeds drops it as "pruned history". PROTOCOL.md §6.1.2 says such a
// node "fetches the rest" and that "a dependency on the feed above k waits as for any other node
// holding k"; here it waits for good.
//
// Input: forker E signs E#1..3 and a second variant E#3'. Full node F holds E#1, E#3, E#3' (void
//   from 3, canonical top k = 1) and exports a light snapshot; fresh node L imports it. Full node
//   G holds E#1..3 and E#3' (k = 2). Honest B saw E#1, E#2 before the fork and overwrote E's key
//   k2 (its entry depends on E@2). L is then given E#2 (what sync fetches from G) and B#1.
// Expected: L takes E#2 (its void head becomes G's: v(3, 2)) and B's write; L and G agree on
//   heads, records and digest.
// Actual (measured): L drops E#2 (IngestReport.dropped 1), keeps v(3, 1) for good (every sync
//   round with G sees a difference and fetches E#2 again), and holds B#1 pending until it is
//   evicted: B's honest write never shows on L.
// Suggested fix (not small; a storage change): let a bootstrapped void feed append k + 1 .. s - 1
//   (prev = the header's topHash): FeedSet keeps f.top moving for an isVoidSeq head; the ledger
//   applies the entry, stores it, rewrites the stored void head row and the `head-headers` row
//   (top, topHash, lamport, clock) and reseals the compaction (v3 binds the headers) in one step;
//   bootstrappedVoids/checkEntriesHeld then count stored entries k0 + 1 .. k above the bootstrap.
// Fixed (feeds.ts nextSeq/append, ledger-replay.ts bootstrappedVoids/entriesAboveTop): FeedSet
//   moves the top of a void-seq head; the ledger stores the entry in one write below the void head
//   (which does not move) and applies it. The void head row, `head-headers` and the seal keep k0:
//   open walks the stored entries k0 + 1 .. k (verified, linked from topHash) to find k, so no
//   multi-write order exists to crash in (test/unit/void-catchup.test.ts, test/sim/voidcatch.test.ts).
import { describe, expect, it } from 'vitest';
import { collectBytes } from '../../src/lib/core/snapshot/index.js';
import { exportLedgerSnapshot, importLedgerSnapshot } from '../../src/lib/core/ledger-snapshots.js';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { keysFromByte, makeChain } from '../helpers/ledger-fixtures.js';
import { ledgerView, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

describe('redteam6c: a bootstrapped void head below s - 1 never catches up', () => {
  it('a light replica takes the canonical entries above its bootstrapped top and their dependents', async () => {
    const F = await openLedger(memoryLocation(), 41, { compactEvery: 0 });
    const G = await openLedger(memoryLocation(), 42, { compactEvery: 0 });
    const B = await openLedger(memoryLocation(), 45, { compactEvery: 0 });
    const net = F.ledger.networkId;
    const E = await keysFromByte(43);
    const e = toHex(E.publicKey);
    const chain = await makeChain(E, 3, net);
    const alt3 = await createEntry({ ...chain[2].entry, keys: E, time: chain[2].entry.time + 7 }, net);
    await B.ledger.ingest(chain.slice(0, 2));
    await B.ledger.put('k2', 'b-overwrites');
    const b1 = B.log.find((h) => toHex(h.entry.author) === B.ledger.author)!;
    expect(b1.entry.deps).toEqual([{ author: e, seq: 2 }]);

    await F.ledger.ingest([chain[0], chain[2], alt3]);
    await G.ledger.ingest([...chain, alt3, b1]);
    expect(F.ledger.voidTop(e)?.seq).toBe(1);
    expect(G.ledger.voidTop(e)?.seq).toBe(2);

    const L = await openLedger(memoryLocation(), 44, { compactEvery: 0 });
    await importLedgerSnapshot(L.ledger, await collectBytes(exportLedgerSnapshot(F.ledger, 'light')));
    const r = await L.ledger.ingest([chain[1], b1]);

    expect({ dropped: r.dropped, pending: L.ledger.stats({ digest: false }).pending }).toEqual({
      dropped: 0,
      pending: 0
    });
    expect(L.ledger.get('k2')).toBe('b-overwrites');
    expect(ledgerView(L.ledger)).toEqual(ledgerView(G.ledger));
  });
});
