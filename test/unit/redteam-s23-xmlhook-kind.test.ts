// Red team (s23): whether an entry is accepted depends on batching, for children of a Y.XmlHook.
//
// LedgerState.checkPlacement judges an explicit parent's kind by typeKind: for a parent already
// in the document, `item.content.type instanceof Y.Map ? 'map' : 'list'`; for one of the same
// batch (parsed, not applied yet), `s.typeRef === 1 ? 'map' : 'list'`. In Yjs 13.6 YXmlHook
// (ContentType typeRef 5) `extends YMap`: in the document a hook is a 'map', in a batch a 'list'.
// So E's entry 1 creates a hook and entry 2 puts a keyless (list-style) item under it:
//   - ingested in one batch: entry 2 is judged against the parsed hook ('list'): accepted;
//   - ingested one by one: the hook is in the document ('map'): "a map item without a key",
//     refused (and every later entry of E's feed with it).
// (A keyed child is the mirror image: refused in a batch, accepted one by one.) Two honest nodes
// given the same signed entries store different feeds, heads and state digests for good; which one
// a node gets depends only on how gossip batched the entries.
// Fixed: a parent of the batch is judged by the same table (refs 1 and 5 are maps): the keyless
// child is refused either way.
import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { encodeYUpdate, observe } from '../fuzz/kit.js';

describe('red team s23: children of a Y.XmlHook', () => {
  it('an entry is accepted or refused whatever the batching', async () => {
    const evil = await keysFromByte(51);
    const client = clientIdOf(toHex(evil.publicKey));
    const one = await openLedger(memoryLocation(), 1);
    const two = await openLedger(memoryLocation(), 2);
    const networkId = one.ledger.networkId;
    const hook = encodeYUpdate({
      sections: [{ client, clock: 0, structs: [{ parent: 'h', content: { k: 'type', typeRef: 5, name: 'hook' } }] }],
      deletes: []
    });
    const child = encodeYUpdate({
      sections: [
        { client, clock: 1, structs: [{ parent: { client, clock: 0 }, content: { k: 'any', values: ['v'] } }] }
      ],
      deletes: []
    });
    const e1 = await createEntry(
      { keys: evil, seq: 1, prev: new Uint8Array(32), lamport: 1, time: 1, clock: 1, payload: hook },
      networkId
    );
    const e2 = await createEntry(
      { keys: evil, seq: 2, prev: e1.hash, lamport: 2, time: 2, clock: 2, payload: child },
      networkId
    );
    const batched = await one.ledger.ingest([e1, e2]);
    const first = await two.ledger.ingest([e1]);
    const second = await two.ledger.ingest([e2]);
    // Was: the batch stored both, one by one the second was refused ("a map item without a key").
    expect(second.rejected).toMatchObject([{ code: 'malformed-payload' }]);
    expect([first.added + second.added, second.rejected]).toEqual([batched.added, batched.rejected]);
    expect(await observe(two.ledger, two.store)).toEqual(await observe(one.ledger, one.store));
    for (const n of [one, two]) await n.ledger.close();
  });
});
