// Red team (s23): the records delete rule judges a merged Yjs item as one write, a batch's
// parsed structs one by one, so its verdict depends on batching.
//
// checkRecordDeletes (state/records-rules.ts) requires, for each record item a delete range
// touches, that some new item of the payload names one of the deleted units of THAT ITEM as its
// origin (requireOverwrite over [from, to) of the item). For ids already applied the item is the
// document's Yjs struct; for ids of the same batch it is the parsed struct. Yjs merges a client's
// consecutive overwrites of one key once both are deleted (cleanupTransactions → tryMergeDeleteSet
// → Item.mergeWith: same client, consecutive clocks, origin = left's last id, both deleted), so
// A's writes V1, V2 (then V3) of key "k" are ONE struct [V1, V2] in the document, and two in a
// batch. E (having seen V3) deletes V1 and V2 (V1 bare: it names no origin in V1) and writes "k"
// with origin V2:
//   - A's entries already applied: one merged item [V1, V2], origin V2 inside it: accepted;
//   - A's entries in the same batch: V1 alone has no origin inside it: refused.
// Two honest nodes given the same entries store different feeds, depending on batching only.
// Fixed: judged per clock unit on both paths (every deleted record unit must be the origin of a
// new item of the payload): refused either way, since V1 is deleted bare.
import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { encodeYUpdate, observe } from '../fuzz/kit.js';

describe('red team s23: record deletes over merged writes', () => {
  it('a delete of merged overwrites gets one verdict whatever the batching', async () => {
    const a = await openLedger(memoryLocation(), 81);
    for (const v of [1, 2, 3]) await a.ledger.put('k', v); // A's clocks 0, 1, 2: V1, V2, V3
    const aClient = clientIdOf(a.ledger.author);
    const evil = await keysFromByte(82);
    const client = clientIdOf(toHex(evil.publicKey));
    const e1 = await createEntry(
      {
        keys: evil,
        seq: 1,
        prev: new Uint8Array(32),
        lamport: a.log[2].entry.lamport + 1,
        time: 1,
        clock: 1,
        deps: [{ author: a.ledger.author, seq: 3 }],
        payload: encodeYUpdate({
          sections: [
            {
              client,
              clock: 0,
              structs: [{ origin: { client: aClient, clock: 1 }, content: { k: 'any', values: ['e'] } }]
            }
          ],
          deletes: [{ client: aClient, ranges: [[0, 2]] }]
        })
      },
      a.ledger.networkId
    );
    const one = await openLedger(memoryLocation(), 1);
    const two = await openLedger(memoryLocation(), 2);
    expect((await one.ledger.ingest(a.log)).rejected).toEqual([]);
    const after = await one.ledger.ingest([e1]);
    const together = await two.ledger.ingest([...a.log, e1]);
    // Was: accepted after A's entries were applied, refused ("deletes record "k" without
    // writing its key") in one batch with them.
    expect(after.rejected).toMatchObject([{ code: 'malformed-payload' }]);
    expect(together.rejected).toEqual(after.rejected);
    expect(await observe(two.ledger, two.store)).toEqual(await observe(one.ledger, one.store));
    for (const n of [a, one, two]) await n.ledger.close();
  });
});
