// Red team 6: entries held pending (predecessor missing) while a void rebuild is deferred must
// survive the rebuild (flush or timer) and apply once their predecessor arrives, exactly as on a
// node that rebuilt at once.
import { describe, expect, it } from 'vitest';
import { networkId } from '../../src/lib/core/genesis.js';
import { makeChain } from '../helpers/ledger-fixtures.js';
import { genesis, ledgerView, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

type Budget = { rebuildBudget: { record(ms: number): void } };

describe('redteam6: pending entries across a deferred void rebuild', () => {
  it('held entries are carried over the flush and apply when their predecessor comes', async () => {
    const X = await openLedger(memoryLocation(), 241, { compactEvery: 0 });
    await X.ledger.put('kx1', 1);
    await X.ledger.put('kx2', 2);
    await X.ledger.close();
    const [alt] = await makeChain(X.keys, 1, networkId(genesis), X.log[0], 'alt');
    const H = await openLedger(memoryLocation(), 242, { compactEvery: 0 });
    for (const k of ['h1', 'h2', 'h3']) await H.ledger.put(k, k);
    await H.ledger.close();
    const [h1, h2, h3] = H.log;

    const ref = await openLedger(memoryLocation(), 243, { compactEvery: 0 });
    await ref.ledger.ingest([...X.log, alt, h1, h2, h3]);

    const n = await openLedger(memoryLocation(), 244, {
      compactEvery: 1,
      voidRebuild: { share: 0.1, windowMs: 60_000, now: () => 0 }
    });
    await n.ledger.ingest(X.log);
    (n.ledger as unknown as Budget).rebuildBudget.record(1e6);
    await n.ledger.ingest([alt]);
    expect(n.ledger.stats().staleVoids).toBe(1);
    await n.ledger.ingest([h3, h2]); // held: h1 missing
    expect(n.ledger.stats().pending).toBe(2);
    await n.ledger.flushVoids();
    expect(n.ledger.stats()).toMatchObject({ staleVoids: 0, pending: 2 });
    await n.ledger.ingest([h1]);
    expect(ledgerView(n.ledger)).toEqual(ledgerView(ref.ledger));
    await n.ledger.close();
    await ref.ledger.close();
  });
});
