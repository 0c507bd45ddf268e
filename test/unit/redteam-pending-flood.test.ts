// Red team: the pending budget (MAX_PENDING_BYTES 16 MiB, 10 000 entries, 256 per author) is
// one pool shared by everybody. It used to be first-come (now fair: see feeds.ts makeRoom). Three fresh keys fill it with ~280 validly signed
// 60 KB entries (and a few small ones for the rest) at seq >= 2 whose seq 1 never comes (verifyEntry passes, so gossip Accepts and
// forwards them to every node; refreshing them every PENDING_MAX_AGE_MS keeps it full). From
// then on every honest entry that arrives before its predecessor or dependency is DROPPED
// (pending-full) instead of held; gossip never redelivers it, so the honest write stays hidden
// until some later sync happens to fetch it again.
import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { MAX_PENDING_BYTES } from '../../src/lib/core/constants.js';
import { keysFromByte, yUpdateAt } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

describe('redteam: pending flood', () => {
  // Fixed: the budget is shared fairly (feeds.ts makeRoom): the biggest holder gives up its
  // highest seq, so junk from a few keys only ever evicts itself.
  it('junk from unknown keys cannot evict or block honest out-of-order entries', async () => {
    const n = await openLedger(memoryLocation(), 43);
    for (const [b, size, count] of [
      [90, 60_000, 150],
      [91, 60_000, 150],
      [92, 200, 250]
    ]) {
      const k = await keysFromByte(b);
      const c = clientIdOf(toHex(k.publicKey));
      const junk = [];
      for (let seq = 2; seq < 2 + count; seq++) {
        junk.push(
          await createEntry(
            {
              keys: k,
              seq,
              prev: new Uint8Array(32).fill(1),
              lamport: seq,
              time: 1_700_000_000_000,
              clock: seq,
              deps: [],
              payload: yUpdateAt(`j${seq}`, 'x'.repeat(size), c, seq - 1)
            },
            n.ledger.networkId
          )
        );
      }
      await n.ledger.ingest(junk);
    }
    // Honest: A writes, B overwrites (B#1 depends on A#1). B#1 reaches n first (usual in gossip).
    const a = await openLedger(memoryLocation(), 44);
    await a.ledger.put('doc', 'a');
    const b = await openLedger(memoryLocation(), 45);
    await b.ledger.ingest(a.log);
    await b.ledger.put('doc', 'b');
    const bOwn = b.log.filter((h) => toHex(h.entry.author) === b.ledger.author);
    const r = await n.ledger.ingest(bOwn);
    await n.ledger.ingest(a.log);
    expect({ dropped: r.dropped, doc: n.ledger.get('doc') }).toEqual({ dropped: 0, doc: 'b' });
    const s = n.ledger.stats();
    expect(s.pendingEvicted).toBeGreaterThan(0);
    expect(s.pendingBytes).toBeGreaterThan(0);
    expect(s.pendingBytes).toBeLessThanOrEqual(MAX_PENDING_BYTES);
  }, 60_000);
});
