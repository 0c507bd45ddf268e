// Found by the gossip-converge fuzzer (SEED=1334076824): author J signs two entries at seq 2, one
// refused by the causal rules (its dependencies present), one held for a dependency that never
// comes. A node given the held one first records the fork when the refused one arrives (two
// variants of one pending seq); a node given the refused one first remembered it as a refused
// variant but held the second without comparing: no fork, a pending entry forever, and the two
// nodes disagreed on J's head. Both orders must give the same fork (PROTOCOL.md §6).
import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { MAX_PENDING_PER_AUTHOR } from '../../src/lib/core/constants.js';
import { causalRefusals, keysFromByte, makeChain, yUpdateAt } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

async function scene() {
  const probe = await openLedger(memoryLocation(), 140, { compactEvery: 0 });
  const net = probe.ledger.networkId;
  await probe.ledger.close();
  const X = await keysFromByte(141);
  const chain = await makeChain(X, 3, net);
  const [j1, refused] = await causalRefusals(1, { author: toHex(X.publicKey), seq: 3 }, net, 142);
  const J = await keysFromByte(142);
  const absent = toHex((await keysFromByte(143)).publicKey);
  const held = await createEntry(
    {
      keys: J,
      seq: 2,
      prev: j1.hash,
      lamport: 2,
      time: j1.entry.time + 2,
      clock: 1,
      payload: yUpdateAt('y', 2, clientIdOf(toHex(J.publicKey)), 1),
      deps: [{ author: absent, seq: 1 }]
    },
    net
  );
  return { chain, j1, refused, held, author: toHex(J.publicKey) };
}

describe('a refused variant and a held variant of one seq', () => {
  for (const order of ['refused first', 'held first'] as const)
    it(`are fork evidence whichever came first (${order})`, async () => {
      const s = await scene();
      const node = await openLedger(memoryLocation(), 140, { compactEvery: 0 });
      await node.ledger.ingest([...s.chain, s.j1]);
      const [first, second] = order === 'refused first' ? [s.refused, s.held] : [s.held, s.refused];
      const r1 = await node.ledger.ingest([first]);
      // The scene as meant: the refused variant is refused, the held one waits for `absent`.
      if (order === 'refused first') expect(r1.rejected.map((r) => r.code)).toEqual(['causality']);
      else expect(r1.pending).toBe(1);
      const rep = await node.ledger.ingest([second]);
      expect(rep.forks).toBe(1);
      expect(node.ledger.forks().map((f) => [f.author, f.seq])).toEqual([[s.author, 2]]);
      expect(node.ledger.stats().pending).toBe(0);
      await node.ledger.close();
    });
  it('are fork evidence when the held variant finds the pending budget full (dropped, not held)', async () => {
    const s = await scene();
    const node = await openLedger(memoryLocation(), 140, { compactEvery: 0 });
    await node.ledger.ingest([...s.chain, s.j1]);
    expect((await node.ledger.ingest([s.refused])).rejected.map((r) => r.code)).toEqual(['causality']);
    // J's later entries fill its share of the pending buffer (MAX_PENDING_PER_AUTHOR, 256).
    const J = await keysFromByte(142);
    const later = await makeChain(J, MAX_PENDING_PER_AUTHOR, node.ledger.networkId, s.refused);
    expect((await node.ledger.ingest(later)).pending).toBe(MAX_PENDING_PER_AUTHOR);
    const rep = await node.ledger.ingest([s.held]);
    expect(rep.forks).toBe(1);
    expect(node.ledger.forks().map((f) => [f.author, f.seq])).toEqual([[s.author, 2]]);
    await node.ledger.close();
  });
});
