// Red team (s23): whether a delete is accepted depends on how Yjs happens to have merged the
// structs it covers, so on batching.
//
// checkRecordDeletes (state/records-rules.ts) walks every delete range struct by struct and refuses
// the payload once it walked more than MAX_ITEMS_CHECKED (4096) structs ("delete ranges cover too
// many items"). It counts Yjs structs of the document for ids already applied, and parsed structs
// of the batch for ids not applied yet. But the document's struct boundaries are not a function of
// the entries: Yjs merges a client's consecutive mergeable items after every transaction
// (cleanupTransactions → tryToMergeWithLefts, Item.mergeWith), so a payload of 4097 one-unit
// structs is ONE struct once applied, and 4097 while it waits in the batch. So:
//   B's entry holds 4097 consecutive one-unit list items (separate structs in its payload);
//   E's entry (depending on it) deletes all of B's items:
//   - ingested with B's entry in one batch: 4097 parsed structs walked: refused;
//   - ingested after it (B's entry applied, one merged struct): 1 struct walked: accepted.
// (The same count also differs between a node that applied entries live, with items split by later
// references or deletes, and one that loaded the merged canonical state.) Two honest nodes store
// different feeds for good, depending only on how gossip batched the entries.
// Fixed: the bound is the ranges' lengths summed (MAX_DELETED_UNITS, a property of the payload
// alone); the walk takes at most one step per unit.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { MalformedPayloadError } from '../../src/lib/core/errors.js';
import { checkRecordDeletes, MAX_DELETED_UNITS } from '../../src/lib/core/state/records-rules.js';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { encodeYUpdate, observe, type YStruct } from '../fuzz/kit.js';

const UNITS = 4097;

describe('red team s23: the delete walk counts Yjs structs', () => {
  it('a delete is accepted or refused whatever the batching', async () => {
    const bKeys = await keysFromByte(61);
    const eKeys = await keysFromByte(62);
    const b = clientIdOf(toHex(bKeys.publicKey));
    const one = await openLedger(memoryLocation(), 1);
    const two = await openLedger(memoryLocation(), 2);
    const networkId = one.ledger.networkId;
    // B: one list item after another in root "l", each its own struct (what Yjs merges on apply).
    const structs: YStruct[] = [{ parent: 'l', content: { k: 'any', values: [true] } }];
    for (let i = 1; i < UNITS; i++)
      structs.push({ origin: { client: b, clock: i - 1 }, content: { k: 'any', values: [true] } });
    const b1 = await createEntry(
      {
        keys: bKeys,
        seq: 1,
        prev: new Uint8Array(32),
        lamport: 1,
        time: 1,
        clock: UNITS,
        payload: encodeYUpdate({ sections: [{ client: b, clock: 0, structs }], deletes: [] })
      },
      networkId
    );
    const e1 = await createEntry(
      {
        keys: eKeys,
        seq: 1,
        prev: new Uint8Array(32),
        lamport: 2,
        time: 2,
        clock: 0,
        deps: [{ author: toHex(bKeys.publicKey), seq: 1 }],
        payload: encodeYUpdate({ sections: [], deletes: [{ client: b, ranges: [[0, UNITS]] }] })
      },
      networkId
    );
    const batched = await one.ledger.ingest([b1, e1]);
    const first = await two.ledger.ingest([b1]);
    const second = await two.ledger.ingest([e1]);
    expect(first.rejected).toEqual([]);
    // Was: in one batch E's delete was refused ("delete ranges cover too many items"), after B's
    // entry was applied it was accepted.
    expect(batched.rejected).toEqual([]);
    expect(second.rejected).toEqual([]);
    expect(await observe(one.ledger, one.store)).toEqual(await observe(two.ledger, two.store));
    for (const n of [one, two]) await n.ledger.close();
  }, 60_000);
});

describe('red team s23: the delete bound is the payload alone', () => {
  it('delete ranges over more than MAX_DELETED_UNITS units are refused before any lookup', () => {
    const doc = new Y.Doc({ gc: false });
    const ranges = [
      { client: 7, clock: 0, len: MAX_DELETED_UNITS - 10 },
      { client: 8, clock: 5, len: 10 }
    ];
    expect(() => checkRecordDeletes(doc, { structs: [], deletes: ranges })).not.toThrow();
    ranges[1].len = 11;
    expect(() => checkRecordDeletes(doc, { structs: [], deletes: ranges })).toThrow(MalformedPayloadError);
  });
});
