// Red team: one entry, two structs: (1) a valid overwrite of an honest author's record `shared`
// (origin = the honest item, dep on that author) and (2) a list item in the `records` map (see
// redteam-map-list-item.test.ts). Every check passes, the entry is stored, Y.applyUpdate
// integrates BOTH structs and then throws from an observer, so LedgerState.applyRemote never
// reaches `owners.set(client, author)`. The evil clientID now owns the current value of
// `shared` but has no known author. Every later local put/delete of `shared` on every node
// computes its deps with authorOf(evilClient) === undefined and fails with StateUsageError
// ("references items of unknown client") until the node restarts (replay then knows the
// owner). The attacker can freeze any set of keys (one entry, many structs) network-wide, and
// re-freeze them with a new key whenever it likes.
import { describe, expect, it } from 'vitest';
import * as encoding from 'lib0/encoding';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

describe('redteam: ownerless clientID freezes a key', () => {
  it('an honest author can still overwrite its own key after the attack', async () => {
    const loc = memoryLocation();
    const n = await openLedger(loc, 40);
    await n.ledger.put('shared', 1);
    const evil = await keysFromByte(76);
    const evilHex = toHex(evil.publicKey);
    const ce = clientIdOf(evilHex);
    const cn = clientIdOf(n.ledger.author);

    const enc = encoding.createEncoder();
    encoding.writeVarUint(enc, 1); // one client section
    encoding.writeVarUint(enc, 2); // two structs
    encoding.writeVarUint(enc, ce);
    encoding.writeVarUint(enc, 0);
    // (1) overwrite of `shared`: ContentAny with origin = the honest item (n:0)
    encoding.writeUint8(enc, 0x80 | 8);
    encoding.writeVarUint(enc, cn);
    encoding.writeVarUint(enc, 0);
    encoding.writeVarUint(enc, 1);
    encoding.writeAny(enc, { v: 'mine now', a: evilHex, t: 1_700_000_000_000, l: 2 });
    // (2) list item in the records map: ContentString, parent by root name, no parentSub
    encoding.writeUint8(enc, 4);
    encoding.writeVarUint(enc, 1);
    encoding.writeVarString(enc, 'records');
    encoding.writeVarString(enc, 'x');
    encoding.writeVarUint(enc, 0); // no deletes (Y.Map deletes the overwritten item itself)
    const h = await createEntry(
      {
        keys: evil,
        seq: 1,
        prev: new Uint8Array(32),
        lamport: 2,
        time: 1_700_000_000_000,
        clock: 2,
        deps: [{ author: n.ledger.author, seq: 1 }],
        payload: encoding.toUint8Array(enc)
      },
      n.ledger.networkId
    );
    // Fixed: the keyless list item in the records map makes the whole entry refused, before
    // anything is stored or applied (LedgerState.checkPlacement).
    expect((await n.ledger.ingest([h])).rejected).toMatchObject([{ code: 'malformed-payload' }]);
    expect(n.ledger.get('shared')).toBe(1);
    expect(await n.store.count()).toBe(1);

    await expect(n.ledger.put('shared', 2)).resolves.not.toThrow();
    expect(n.ledger.get('shared')).toBe(2);
  });
});
