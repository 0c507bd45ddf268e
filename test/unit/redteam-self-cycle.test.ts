// Red team: the causal rules bound references to the entry's OWN items only by the entry's end
// clock (`limits.set(own, end)`), so a struct may name a LATER struct of the same payload as its
// origin. Two structs whose origins point at each other (0 → 1, 1 → 0) pass parseYjsUpdate,
// checkCausal, checkIntegrable and checkRecordDeletes, so the entry is admitted and STORED; then
// Y.applyUpdate throws ("Cannot read properties of undefined (reading 'length')") and the ledger
// reports it as rejected (malformed-payload) while its feed head has advanced. The author's next
// entries chain on it and continue at clock 2, so Yjs parks their structs as pending (client
// clocks 0..1 never arrive) — forever, outside every FeedSet bound (pending count/bytes/age),
// and again after every restart. PROTOCOL.md §5.3: "a node never parks Yjs structs as pending".
import { describe, expect, it } from 'vitest';
import * as encoding from 'lib0/encoding';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { keysFromByte, yUpdateAt } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

describe('redteam: self-referencing structs', () => {
  it('are refused whole (nothing stored), and nothing is ever parked as Yjs pending', async () => {
    const n = await openLedger(memoryLocation(), 41);
    const evil = await keysFromByte(77);
    const c = clientIdOf(toHex(evil.publicKey));
    const enc = encoding.createEncoder();
    encoding.writeVarUint(enc, 1);
    encoding.writeVarUint(enc, 2);
    encoding.writeVarUint(enc, c);
    encoding.writeVarUint(enc, 0);
    for (const origin of [1, 0]) {
      encoding.writeUint8(enc, 0x80 | 8); // ContentAny with an origin
      encoding.writeVarUint(enc, c);
      encoding.writeVarUint(enc, origin);
      encoding.writeVarUint(enc, 1);
      encoding.writeAny(enc, 'x');
    }
    encoding.writeVarUint(enc, 0);
    const base = { keys: evil, time: 1_700_000_000_000, deps: [] };
    const one = await createEntry(
      { ...base, seq: 1, prev: new Uint8Array(32), lamport: 1, clock: 2, payload: encoding.toUint8Array(enc) },
      n.ledger.networkId
    );
    const r1 = await n.ledger.ingest([one]);
    // Follow-ups: ordinary writes chained on it (only accepted if seq 1 was stored).
    let prev = one.hash;
    for (let i = 0; i < 20; i++) {
      const h = await createEntry(
        {
          ...base,
          seq: 2 + i,
          prev,
          lamport: 2 + i,
          clock: 3 + i,
          payload: yUpdateAt(`p${i}`, 'x'.repeat(1000), c, 2 + i)
        },
        n.ledger.networkId
      );
      prev = h.hash;
      await n.ledger.ingest([h]);
    }
    expect({
      codes: r1.rejected.map((x) => x.code),
      stored: await n.store.count(),
      yjsPending: n.ledger.stats().yjsPending
    }).toEqual({ codes: ['causality'], stored: 0, yjsPending: false });
  });
});
