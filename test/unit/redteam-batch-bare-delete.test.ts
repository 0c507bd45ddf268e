// Red team: checkRecordDeletes (state/records-rules.ts) walks only items already in the Y.Doc
// (`known = Y.getState(doc.store, client)`). admitCausal checks every entry of a batch BEFORE
// any of them is applied, so a bare delete whose victim record arrives in the SAME batch (or is
// released from the dependency gate together with it) is never checked: the victim's record is
// removed with no tombstone, no conflict, no removal. Nodes that get the two entries in
// separate batches refuse it: acceptance depends on batching (non-deterministic).
import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { keysFromByte, deleteOnly } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

describe('redteam: bare delete admitted when its victim is in the same batch', () => {
  it('gossip order "attack first, victim second" silently erases the victim record', async () => {
    const victim = await openLedger(memoryLocation(), 2);
    await victim.ledger.put('mine', 'precious');
    const vEntry = victim.log[0];
    const evil = await keysFromByte(68);
    const vClient = clientIdOf(victim.ledger.author);

    const honestNode = await openLedger(memoryLocation(), 1);
    const attack = await createEntry(
      {
        keys: evil,
        seq: 1,
        prev: new Uint8Array(32),
        lamport: 2,
        time: 1_700_000_000_000,
        clock: 0,
        deps: [{ author: victim.ledger.author, seq: 1 }],
        payload: deleteOnly(vClient, 0, 1)
      },
      honestNode.ledger.networkId
    );

    // Node A: victim entry first, attack later (separate gossip messages): refused.
    const a = await openLedger(memoryLocation(), 3);
    await a.ledger.ingest([vEntry]);
    const ra = await a.ledger.ingest([attack]);
    expect(ra.rejected).toMatchObject([{ code: 'malformed-payload' }]);
    expect(a.ledger.get('mine')).toBe('precious');

    // Node B: attack arrives first (held by the dependency gate), then the victim entry.
    const b = await openLedger(memoryLocation(), 4);
    expect(await b.ledger.ingest([attack])).toMatchObject({ pending: 1 });
    const rb = await b.ledger.ingest([vEntry]);

    // Node C: both in one batch (gap fill / snapshot import).
    const c = await openLedger(memoryLocation(), 5);
    const rc = await c.ledger.ingest([vEntry, attack]);

    // Expected: the same verdict as node A everywhere, the record still there.
    expect({ b: rb.rejected.map((r) => r.code), c: rc.rejected.map((r) => r.code) }).toEqual({
      b: ['malformed-payload'],
      c: ['malformed-payload']
    });
    expect(b.ledger.get('mine')).toBe('precious');
    expect(c.ledger.get('mine')).toBe('precious');
    expect(b.ledger.stats().stateDigest).toBe(a.ledger.stats().stateDigest);
    expect(b.ledger.heads()).toEqual(a.ledger.heads());
    void toHex;
  });
});
