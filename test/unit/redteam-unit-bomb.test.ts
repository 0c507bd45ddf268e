// Red team (fixed by checkRecordWrites: a record item spans one unit): clock units are bounded per entry (units <= bytes), but not per key. A ContentAny
// item of ~65 000 one-byte `undefined` values is ~65 000 clock units in a 64 KB entry. Conflict
// tracking (state/conflicts.ts keyWrites/keyConflicts/keyRemovals) re-expands EVERY unit of a
// key's whole history (gc is off) into objects on every change of that key, so each further
// entry to that key costs O(history): quadratic CPU and a per-refresh allocation that grows
// without bound. A stream of validly signed 64 KB entries (Accepted and forwarded by gossip)
// makes every node's ingest, and every honest write to that key, ever slower until it hangs.
import { describe, expect, it } from 'vitest';
import * as encoding from 'lib0/encoding';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

const UNITS = 64_000;

function bomb(client: number, clock: number): Uint8Array {
  const enc = encoding.createEncoder();
  encoding.writeVarUint(enc, 1);
  encoding.writeVarUint(enc, 1);
  encoding.writeVarUint(enc, client);
  encoding.writeVarUint(enc, clock);
  if (clock === 0) {
    encoding.writeUint8(enc, 0x20 | 8); // ContentAny under records["k"]
    encoding.writeVarUint(enc, 1);
    encoding.writeVarString(enc, 'records');
    encoding.writeVarString(enc, 'k');
  } else {
    encoding.writeUint8(enc, 0x80 | 8); // sequential overwrite: origin = own last unit
    encoding.writeVarUint(enc, client);
    encoding.writeVarUint(enc, clock - 1);
  }
  encoding.writeVarUint(enc, UNITS);
  for (let i = 0; i < UNITS; i++) encoding.writeUint8(enc, 127); // Any undefined
  encoding.writeVarUint(enc, 0);
  return encoding.toUint8Array(enc);
}

describe('redteam: unit bomb on one key (fixed: a record write is one value)', () => {
  it('a 64,000-value record write is refused before anything is stored, and honest writes are unaffected', async () => {
    const n = await openLedger(memoryLocation(), 42);
    const evil = await keysFromByte(78);
    const c = clientIdOf(toHex(evil.publicKey));
    const h: HashedEntry = await createEntry(
      {
        keys: evil,
        seq: 1,
        prev: new Uint8Array(32),
        lamport: 1,
        time: 1_700_000_000_000,
        clock: UNITS,
        deps: [],
        payload: bomb(c, 0)
      },
      n.ledger.networkId
    );
    const r = await n.ledger.ingest([h]);
    expect(r).toMatchObject({ added: 0, rejected: [{ code: 'malformed-payload' }] });
    expect(await n.store.count()).toBe(0);
    await n.ledger.put('k', 'honest');
    expect(n.ledger.get('k')).toBe('honest');
  });
});
