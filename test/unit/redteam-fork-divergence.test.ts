// Red team: equivocation. Were the FIRST-SEEN variant of a forked seq kept, which payload is
// applied would depend on arrival order: two nodes given the same two entries in different orders
// would keep different chains and states for good, and an honest write built on the forked item
// would land under another key on the other node. PROTOCOL.md §6.1 voids the forked feed instead:
// the same entries in any order give the same heads, records and digest.
import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { keysFromByte, yUpdateAt } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import * as Y from 'yjs';

describe('redteam: fork variants must not make state depend on arrival order', () => {
  it('same entries, different order: same heads, records and digest; the honest overwrite lands the same', async () => {
    const evil = await keysFromByte(70);
    const c = clientIdOf(toHex(evil.publicKey));
    const x = await openLedger(memoryLocation(), 31);
    const y = await openLedger(memoryLocation(), 32);
    const mk = async (key: string, value: string) =>
      createEntry(
        {
          keys: evil,
          seq: 1,
          prev: new Uint8Array(32),
          lamport: 1,
          time: 1_700_000_000_000,
          clock: 1,
          deps: [],
          payload: (() => {
            // records[key] = {stored wrapper of a real put}: reuse a real record encoding.
            const d = new Y.Doc({ gc: false });
            d.clientID = c;
            let u: Uint8Array | null = null;
            d.on('update', (up: Uint8Array) => (u = up));
            d.getMap('records').set(key, value);
            return u ?? yUpdateAt(key, value, c, 0);
          })()
        },
        x.ledger.networkId
      );
    const f1 = await mk('k', 'one');
    const f2 = await mk('z', 'two');

    await x.ledger.ingest([f1]);
    await x.ledger.ingest([f2]);
    await y.ledger.ingest([f2]);
    await y.ledger.ingest([f1]);
    // x overwrites evil's "k" (honest, sequential overwrite: origin = evil's item 0).
    await x.ledger.put('k', 'honest');
    const honest = x.log.filter((h) => toHex(h.entry.author) === x.ledger.author);
    const ry = await y.ledger.ingest(honest);

    expect({
      rejected: ry.rejected.map((r) => r.code),
      heads: y.ledger.heads(),
      keys: y.ledger.records().map((r) => r.key),
      digest: y.ledger.stats().stateDigest
    }).toEqual({
      rejected: [],
      heads: x.ledger.heads(),
      keys: x.ledger.records().map((r) => r.key),
      digest: x.ledger.stats().stateDigest
    });
  });
});
