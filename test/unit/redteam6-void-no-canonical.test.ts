// Red team 6: a void feed whose canonical part never arrives. Hostile X signs two entries at seq 5
// and never publishes seq 1..4 (void from 5, nothing applied). Hostile Q anchors an item at X:1000
// with a dependency X@5 (present: a dependency at or above the fork is covered, §6.1.3). The
// placeholder is applied only once X's seq 1..4 are (applyVoids): if Q's struct reached Yjs it
// would be parked for good, and compaction refuses while anything is parked.
import { describe, expect, it } from 'vitest';
import { networkId } from '../../src/lib/core/genesis.js';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { keysFromByte, yUpdateAt, yItemAnchoredAt } from '../helpers/ledger-fixtures.js';
import { genesis, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

async function fixture() {
  const net = networkId(genesis);
  const xk = await keysFromByte(211);
  const x = toHex(xk.publicKey);
  const cx = clientIdOf(x);
  const fake = (tag: number) =>
    createEntry(
      {
        keys: xk,
        seq: 5,
        prev: new Uint8Array(32).fill(tag),
        lamport: 5,
        time: 1_700_000_300_000,
        clock: 5,
        payload: yUpdateAt(`x5-${tag}`, { v: tag, a: x, t: 1, l: 5 }, cx, 4)
      },
      net
    );
  const [x5a, x5b] = [await fake(1), await fake(2)];
  const qk = await keysFromByte(212);
  const cq = clientIdOf(toHex(qk.publicKey));
  const q1 = await createEntry(
    {
      keys: qk,
      seq: 1,
      prev: new Uint8Array(32),
      lamport: 1,
      time: 1_700_000_300_001,
      clock: 1,
      deps: [{ author: x, seq: 5 }],
      payload: yItemAnchoredAt(cq, 0, { client: cx, clock: 1000 }, 'far')
    },
    net
  );
  return { x, x5a, x5b, q1 };
}

describe('redteam6: a void feed whose canonical part never arrives', () => {
  // Input: X#5 and X#5' (two signed entries at seq 5, no seq 1..4 anywhere), then Q#1 (origin
  //   X:1000, deps X@5), then honest local writes and compact().
  // Expected: Q#1 is refused or integrates as GC; nothing stays parked (stats().yjsPending false);
  //   compaction still works (issue 6: nothing may leave Yjs structs parked).
  // Holds: Q#1 waits in the FeedSet (pending, visible in stats().pending and bounded by the
  //   pending budget), never in Yjs, so compaction goes on.
  it('nothing stays parked and compaction still runs', async () => {
    const f = await fixture();
    const n = await openLedger(memoryLocation(), 213, { compactEvery: 0 });
    await n.ledger.ingest([f.x5a, f.x5b]);
    const voidFrom = n.ledger.voidFrom(f.x);
    const r = await n.ledger.ingest([f.q1]);
    await n.ledger.put('mine', 1);
    await n.ledger.compact();
    const s = n.ledger.stats();
    expect({ voidFrom, added: r.added, pending: s.pending, yjsPending: s.yjsPending }).toEqual({
      voidFrom: 5,
      added: 0,
      pending: 1,
      yjsPending: false
    });
    expect(s.lastCompactionAt).not.toBeNull();
    await n.ledger.close();
  });
});
