// An ingest's report is what its sender is scored on (sync engine, gap fill, gossip). When the
// batch voids a feed, the same ingest judges again entries other peers sent earlier (refusals a
// void may make acceptable, held entries): their refusals are not this sender's doing and must
// not land in its report. Found by a red team (2026-12-01): an honest peer delivering a fork's
// second variant got three junk entries' causality refusals in its report.
import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { keysFromByte, makeChain, yUpdateAt } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

describe('ingest report after a void in the batch', () => {
  it("names only the batch's own refusals, not those of earlier entries judged again", async () => {
    const A = await openLedger(memoryLocation(), 121, { compactEvery: 0 });
    try {
      const net = A.ledger.networkId;
      const X = await keysFromByte(122);
      const chain = await makeChain(X, 12, net);
      // Junk from other authors: depends on X@12 with a wrong clock (refused, remembered).
      const junk: HashedEntry[] = [];
      for (let i = 0; i < 3; i++) {
        const J = await keysFromByte(10 + i);
        const [j1] = await makeChain(J, 1, net);
        const j2 = await createEntry(
          {
            keys: J,
            seq: 2,
            prev: j1.hash,
            lamport: 18,
            time: j1.entry.time + 1,
            clock: 5,
            payload: yUpdateAt('x', 1, clientIdOf(toHex(J.publicKey)), 1),
            deps: [{ author: toHex(X.publicKey), seq: 12 }]
          },
          net
        );
        junk.push(j1, j2);
      }
      await A.ledger.ingest(chain);
      const first = await A.ledger.ingest(junk);
      expect(first.rejected.map((r) => r.seq)).toEqual([2, 2, 2]); // the junk's own sender is told
      // An honest peer delivers X's second variant of seq 12: fork evidence, X void from 12.
      const alt = await createEntry({ ...chain[11].entry, keys: X, time: chain[11].entry.time + 99 }, net);
      const rep = await A.ledger.ingest([alt]);
      expect(rep.forks).toBe(1);
      expect(rep.rejected).toEqual([]);
    } finally {
      await A.ledger.close();
    }
  });
});
