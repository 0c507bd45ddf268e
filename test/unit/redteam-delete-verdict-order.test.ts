// Red team: checkRecordDeletes (state/records-rules.ts) judges a delete against the node's
// CURRENT document (`!item.deleted`), not against the entries the delete names. An entry that
// deletes a record item its dependency held is refused while the victim's record is live and
// accepted once the victim has itself overwritten it. So the verdict depends on what else the
// node holds, not only on the entry and its deps (PROTOCOL.md §5.2): two nodes given the same
// entries in a different order end with different heads, and the refused author's later
// entries (and everything that depends on them) are refused on one node only.
import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { keysFromByte, yUpdateAt, deleteOnly } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

describe('redteam: delete verdict depends on arrival order', () => {
  it('same entries, one at a time, two orders: same heads', async () => {
    const victim = await openLedger(memoryLocation(), 36);
    await victim.ledger.put('k', 1);
    await victim.ledger.put('k', 2); // deletes its own item 0
    const [v1, v2] = victim.log;
    const evil = await keysFromByte(74);
    const ce = clientIdOf(toHex(evil.publicKey));
    const e1 = await createEntry(
      {
        keys: evil,
        seq: 1,
        prev: new Uint8Array(32),
        lamport: 2,
        time: 1_700_000_000_000,
        clock: 0,
        deps: [{ author: victim.ledger.author, seq: 1 }],
        payload: deleteOnly(clientIdOf(victim.ledger.author), 0, 1)
      },
      victim.ledger.networkId
    );
    const e2 = await createEntry(
      {
        keys: evil,
        seq: 2,
        prev: e1.hash,
        lamport: 3,
        time: 1_700_000_000_001,
        clock: 1,
        deps: [],
        payload: yUpdateAt('e', 'x', ce, 0)
      },
      victim.ledger.networkId
    );

    const a = await openLedger(memoryLocation(), 37);
    for (const h of [v1, e1, v2, e2]) await a.ledger.ingest([h]);
    const b = await openLedger(memoryLocation(), 38);
    for (const h of [v1, v2, e1, e2]) await b.ledger.ingest([h]);

    expect({ heads: a.ledger.heads(), digest: a.ledger.stats().stateDigest }).toEqual({
      heads: b.ledger.heads(),
      digest: b.ledger.stats().stateDigest
    });
  });
});
