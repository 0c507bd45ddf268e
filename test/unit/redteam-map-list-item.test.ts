// Red team: a list item (no parentSub) directly in the `records` Y.Map. It passes
// parseYjsUpdate, the causal rules (own clientID, clock 0, nothing referenced), checkIntegrable
// (the parent is a root NAME, not an id) and checkRecordDeletes (no deletes), so the gossip
// validator Accepts it and every node's ingest admits and STORES it. Y.applyUpdate integrates
// the item and then throws (a Y.Map event with a null key reaches the records / conflict
// observers: "Cannot read properties of null (reading 'length')"). The ledger reports the entry as
// rejected (malformed-payload) although it is stored and its struct is in the state: the
// entry is applied partly, not "whole or not at all", and state and ledger disagree.
import { describe, expect, it } from 'vitest';
import { listItemInRecords } from '../helpers/yjs-list-item.js';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

describe('redteam: list item in the records map', () => {
  it('is either refused with nothing stored and the state untouched, or applied cleanly', async () => {
    const loc = memoryLocation();
    const n = await openLedger(loc, 34);
    await n.ledger.put('mine', 1);
    const evil = await keysFromByte(72);
    const h = await createEntry(
      {
        keys: evil,
        seq: 1,
        prev: new Uint8Array(32),
        lamport: 1,
        time: 1_700_000_000_000,
        clock: 2,
        deps: [],
        payload: listItemInRecords(clientIdOf(toHex(evil.publicKey)))
      },
      n.ledger.networkId
    );
    const digestBefore = n.ledger.stats().stateDigest;
    const r = await n.ledger.ingest([h]);
    const stored = await n.store.count();
    const digestAfter = n.ledger.stats().stateDigest;
    // Whole or nothing: refused ⇒ not stored and state unchanged; admitted ⇒ no rejection.
    const refused = r.rejected.length > 0;
    expect({ refused, stored, stateChanged: digestAfter !== digestBefore }).toEqual(
      refused ? { refused, stored: 1, stateChanged: false } : { refused, stored: 2, stateChanged: true }
    );
  });
});
