// Red team 6c (void heads v2, PROTOCOL.md §6.1.1-2; issue 6 "state and ledger never disagree",
// "the same verdict on every node"): equal void heads must mean equal state. A node whose void
// head of E came from a light snapshot or a join (canonical top k, no entries held) learns of a
// lower fork at s' = k + 1. Its canonical part is now complete (k = s' - 1), so the placeholder
// (E's clock space from where entry k ended) must be applied, as every full node does. But
// Ledger.applyVoids reads the clock of entry s' - 1 with storedHeader(), which knows stored
// entries, plain light headers and pruned headers, not the canonical top of a bootstrapped void
// head (its light header is keyed by the void seq): the placeholder is never applied. The node
// then reports the same void head as a full node, v(s', k), with another state.
//
// Input: E signs E#1..5 and variants E#3', E#5'. Full node F holds E#1, E#2, E#5, E#5' (void from
//   5, top 2) and exports a light snapshot; fresh node L imports it. Full node G holds E#1..3 and
//   E#3' (void from 3, top 2). L then receives E#3 and E#3'.
// Expected: L and G report the same heads and the same state digest.
// Actual (measured): equal heads, different digests (L lacks the placeholder); sync sees no
//   difference and never repairs it, and an entry of another author anchored in E's void range
//   integrates as GC on G but waits for a missing struct on L.
// Suggested fix: applyVoids takes the clock of entry s - 1 from the bootstrapped void head's light
//   header too (Ledger.header / bootstrappedTopHeader), not only from stored and pruned headers.
// Fixed (ledger.ts applyVoids): as suggested.
import { describe, expect, it } from 'vitest';
import { collectBytes } from '../../src/lib/core/snapshot/index.js';
import { exportLedgerSnapshot, importLedgerSnapshot } from '../../src/lib/core/ledger-snapshots.js';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { keysFromByte, makeChain } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

describe('redteam6c: a lower fork completes the canonical part of a bootstrapped void head', () => {
  it('the node applies the placeholder: same heads, same digest as a full node', async () => {
    const F = await openLedger(memoryLocation(), 81, { compactEvery: 0 });
    const G = await openLedger(memoryLocation(), 82, { compactEvery: 0 });
    const net = F.ledger.networkId;
    const E = await keysFromByte(83);
    const e = toHex(E.publicKey);
    const chain = await makeChain(E, 5, net);
    const alt = async (i: number) => createEntry({ ...chain[i].entry, keys: E, time: chain[i].entry.time + 7 }, net);
    const [alt3, alt5] = [await alt(2), await alt(4)];
    await F.ledger.ingest([chain[0], chain[1], chain[4], alt5]);
    expect(F.ledger.voidTop(e)?.seq).toBe(2);
    await G.ledger.ingest([...chain.slice(0, 3), alt3]);
    expect([G.ledger.voidFrom(e), G.ledger.voidTop(e)?.seq]).toEqual([3, 2]);

    const loc = memoryLocation();
    const L = await openLedger(loc, 84, { compactEvery: 0 });
    await importLedgerSnapshot(L.ledger, await collectBytes(exportLedgerSnapshot(F.ledger, 'light')));
    expect((await L.ledger.ingest([chain[2], alt3])).forks).toBe(1);
    expect([L.ledger.voidFrom(e), L.ledger.voidTop(e)?.seq]).toEqual([3, 2]);

    const view = (x: typeof L) => ({ heads: x.ledger.heads(), digest: x.ledger.stats().stateDigest });
    expect(view(L)).toEqual(view(G));
    // And the same after a compaction and a reopen.
    await L.ledger.compact();
    await L.ledger.close();
    const again = await openLedger(loc, 84, { compactEvery: 0 });
    expect(view(again)).toEqual(view(G));
    await again.ledger.close();
  });
});
