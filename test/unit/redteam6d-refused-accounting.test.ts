// Red team 6d (RefusedVariants, src/lib/core/refused-variants.ts; issue 6 kind "every field of an
// entry ... has a bound" and "junk cannot grow memory"): the byte cap of remembered refused
// entries counts `payload.byteLength + 256` per entry, but an entry also carries up to 64 deps
// (each a 64-character hex author string and a seq in memory, 33+ bytes on the wire) that are
// not counted. A refused entry with 64 deps and a one-record payload is counted as 283 bytes while
// its encoding alone is 2,287 bytes, and its decoded form (64 dep objects with 64-char strings,
// four Uint8Arrays) is larger still.
//
// Input: hostile keys A_i each sign A_i#1 (valid) and A_i#2 with a wrong prev (a broken chain)
//   carrying 64 deps on made-up authors and a one-record payload, and send both to node N.
// Expected: what RefusedVariants holds fits its byte account: for every remembered entry the
//   counted size is at least its encoded size (so the 4 MiB cap bounds at least the wire bytes).
// Actual (measured): each is counted as 283 bytes but encodes to 2,287 bytes: at the 4 MiB cap N
//   holds ~14,800 such entries, ~32 MiB of encoded entries (more as decoded objects), about 8× the
//   stated bound. Any connected peer can send them (one valid entry plus one junk entry per key).
//   The FeedSet's pending budget (MAX_PENDING_BYTES, payload + PENDING_ENTRY_OVERHEAD_BYTES) counts
//   the same way.
// Fixed: feeds.ts heldEntryBytes counts HELD_DEP_BYTES (128) per dep, in RefusedVariants and the
// pending budget. Was the suggested fix: count an entry by its encoded size (encodeEntry(e).byteLength, or payload +
//   fixed fields + deps × (32 + 9)) plus an in-memory overhead per dep, in RefusedVariants.add and
//   FeedSet.hold.
import { describe, expect, it } from 'vitest';
import { createEntry, encodeEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { MAX_ENTRY_DEPS } from '../../src/lib/core/constants.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { keysFromByte, makeChain, yUpdateAt } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

const fakeAuthor = (i: number) => i.toString(16).padStart(64, 'f');

describe('redteam6d: RefusedVariants counts payload bytes only', () => {
  it('every remembered refused entry is counted at least at its encoded size', async () => {
    const N = await openLedger(memoryLocation(), 71, { compactEvery: 0 });
    const net = N.ledger.networkId;
    const deps = Array.from({ length: MAX_ENTRY_DEPS }, (_, i) => ({ author: fakeAuthor(i), seq: 1 }));
    for (let k = 0; k < 8; k++) {
      const A = await keysFromByte(120 + k);
      const [a1] = await makeChain(A, 1, net);
      const junk = await createEntry(
        {
          keys: A,
          seq: 2,
          prev: new Uint8Array(32).fill(7),
          lamport: 2,
          time: a1.entry.time + 1,
          clock: 1,
          payload: yUpdateAt('x', 1, clientIdOf(toHex(A.publicKey)), 1),
          deps
        },
        net
      );
      const r = await N.ledger.ingest([a1, junk]);
      expect(r.rejected.map((x) => x.code)).toEqual(['broken-chain']);
    }
    // The ledger's remembered refusals (private: read for the measurement only).
    const rv = (N.ledger as unknown as { refusedVariants: { byKey: Map<string, { h: HashedEntry; bytes: number }> } })
      .refusedVariants;
    const held = [...rv.byKey.values()];
    expect(held.length).toBe(8);
    const rows = held.map((v) => ({
      author: toHex(v.h.entry.author).slice(0, 8),
      counted: v.bytes,
      encoded: encodeEntry(v.h.entry).byteLength
    }));
    console.log('counted vs encoded bytes per remembered entry:', rows[0]);
    expect(rows.filter((x) => x.counted < x.encoded)).toEqual([]);
  });
});
