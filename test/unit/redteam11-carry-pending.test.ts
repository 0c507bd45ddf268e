// Red team 11 (2026-12-02), ingest report after a void in the batch (e01936a). The carried pass
// judges again every held entry, others' included, and its `pending` replaced the batch's own:
// a batch that held nothing reported the entries other peers had sent earlier as held. Its
// consumers read `pending` as this batch's: gap fill (settle: `held` marks the peer as having
// served the want), gossip (onPending: a sync round with every peer). Fixed: after the carried
// pass, `pending` counts the batch's entries still held.
import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import { keysFromByte, makeChain } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

describe('red team 11: ingest report pending after a void in the batch', () => {
  it("counts only the batch's own held entries, not those other peers sent earlier", async () => {
    const A = await openLedger(memoryLocation(), 121, { compactEvery: 0 });
    try {
      const net = A.ledger.networkId;
      const X = await keysFromByte(122);
      const Y = await keysFromByte(123);
      const chain = await makeChain(X, 12, net);
      const ys = await makeChain(Y, 4, net);
      await A.ledger.ingest(chain);
      await A.ledger.ingest([ys[0]]);
      // Another peer sent Y#3 before Y#2: held.
      expect((await A.ledger.ingest([ys[2]])).pending).toBe(1);
      // An honest peer delivers X's second variant of seq 12: fork evidence, X void from 12.
      const alt = await createEntry({ ...chain[11].entry, keys: X, time: chain[11].entry.time + 99 }, net);
      const rep = await A.ledger.ingest([alt]);
      expect(rep.forks).toBe(1);
      expect(rep.pending).toBe(0);
      expect(A.ledger.stats().pending).toBe(1); // Y#3 still waits for Y#2
      // A batch holding its own entry across a void still reports it.
      const Z = await keysFromByte(124);
      const zs = await makeChain(Z, 3, net);
      await A.ledger.ingest([zs[0]]);
      const alt2 = await createEntry({ ...chain[10].entry, keys: X, time: chain[10].entry.time + 99 }, net);
      const rep2 = await A.ledger.ingest([zs[2], alt2]);
      expect(rep2.forks).toBe(1);
      expect(rep2.pending).toBe(1);
    } finally {
      await A.ledger.close();
    }
  });
});
