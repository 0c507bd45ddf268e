// A light replica that pruned both s − 1 and s before a lower fork at s (PROTOCOL.md §6.1.2): its
// void head binds k = s − 1, as a full node's does, with h_{s−1} from its sealed pruned-headers
// row (which keeps the hash of each pruned entry), so the two report the same void head and sync
// stops seeing a difference. Before: it bound k = 0 (the row kept no hashes).
import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { PrunedHeaders } from '../../src/lib/core/pruned-headers.js';
import { keysFromByte, makeChain } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

describe('a light replica that pruned s − 1 and s binds k = s − 1 after a fork at s', () => {
  it('reports the void head a full node reports, also after a restart', async () => {
    const E = await keysFromByte(81);
    const e = toHex(E.publicKey);
    const loc = memoryLocation();
    let P = await openLedger(loc, 82, { compactEvery: 0, role: 'light' });
    const G = await openLedger(memoryLocation(), 83, { compactEvery: 0 });
    const chain = await makeChain(E, 6, P.ledger.networkId);
    const alt3 = await createEntry({ ...chain[2].entry, keys: E, time: chain[2].entry.time + 7 }, P.ledger.networkId);
    await P.ledger.ingest(chain);
    await P.ledger.compact();
    await P.ledger.close();
    // What the light budget does behind a compaction: headers first, then the entries 1..3.
    const store = await loc.open();
    await new PrunedHeaders(store, P.keys.seed).keep(e, chain.slice(0, 3));
    expect(await store.pruneBefore(e, 4)).toBe(3);
    await store.close();
    P = await openLedger(loc, 82, { compactEvery: 0, role: 'light' });
    // The fork at 3 comes as its evidence pair (as sync sends it).
    await P.ledger.ingest([chain[2], alt3]);
    await G.ledger.ingest([...chain, alt3]);
    expect(P.ledger.voidFrom(e)).toBe(3);
    expect(G.ledger.voidTop(e)).toEqual({ seq: 2, hash: toHex(chain[1].hash) });
    expect(P.ledger.voidTop(e)).toEqual(G.ledger.voidTop(e));
    expect(P.ledger.head(e)).toEqual(G.ledger.head(e));
    await P.ledger.close();
    P = await openLedger(loc, 82, { compactEvery: 0, role: 'light' });
    expect(P.ledger.head(e)).toEqual(G.ledger.head(e));
  });
});
