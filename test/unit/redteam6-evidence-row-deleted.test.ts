// Red team 6 (issue 6 case 6, variation): the store is edited under the node between two opens
// (another tab, a browser extension, a hand edit). A row of fork evidence is deleted. The void
// feed would silently become a live feed again on this node: X's voided entries (and what built
// on them) come back, while the rest of the network keeps them void.
import { describe, expect, it } from 'vitest';
import { networkId } from '../../src/lib/core/genesis.js';
import { makeChain } from '../helpers/ledger-fixtures.js';
import { genesis, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

describe('redteam6: a fork evidence row deleted from the store', () => {
  // Input: a node voids X from 2 (fork), compacts, closes; the forks row is deleted; reopen.
  // Expected: the open fails with CorruptStoreError (the compaction covered the void), or the
  //   node still holds X void: it never silently shows the voided entry again.
  // Holds: the open fails with CorruptStoreError (the sealed compaction's heads do not match).
  it('either refused on open or still void', async () => {
    const X = await openLedger(memoryLocation(), 221, { compactEvery: 0 });
    await X.ledger.put('kx1', 1);
    await X.ledger.put('kx2', 2);
    await X.ledger.close();
    const [alt] = await makeChain(X.keys, 1, networkId(genesis), X.log[0], 'alt');
    const loc = memoryLocation();
    const n = await openLedger(loc, 222, { compactEvery: 0 });
    await n.ledger.ingest([...X.log, alt]);
    await n.ledger.put('mine', 1);
    await n.ledger.compact();
    expect(n.ledger.get('kx2')).toBeUndefined();
    await n.ledger.close();
    expect(loc.disk.forks.size).toBe(1);
    loc.disk.forks.clear();
    const outcome = await openLedger(loc, 222, { compactEvery: 0 }).then(
      async (again) => {
        const r = { error: undefined, kx2: again.ledger.get('kx2'), voidFrom: again.ledger.voidFrom(X.ledger.author) };
        await again.ledger.close();
        return r;
      },
      (e: unknown) => ({ error: (e as Error).name, kx2: undefined, voidFrom: undefined })
    );
    expect(outcome.error === undefined ? outcome : outcome.error).toEqual(
      outcome.error === undefined ? { error: undefined, kx2: undefined, voidFrom: 2 } : 'CorruptStoreError'
    );
    expect(outcome.error).toBe('CorruptStoreError'); // what happens today
  });
});
