// Red team 6: while a void rebuild is deferred, hostile Q anchors an item far inside the void
// feed's clock space (X:1000, never written; deps X@5 on a feed void from 2). On a node that
// rebuilt at once the placeholder covers it (the item is GC); on a stale node the origin is
// missing, so Yjs could park Q's struct, and with it every later struct of Q. After the flush
// (or a reopen while stale) both nodes must agree, nothing may stay parked, and Q's later honest
// record must show.
import { describe, expect, it } from 'vitest';
import { networkId } from '../../src/lib/core/genesis.js';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import type { Ledger } from '../../src/lib/core/ledger.js';
import { keysFromByte, makeChain, yUpdateAt, yItemAnchoredAt } from '../helpers/ledger-fixtures.js';
import { genesis, ledgerView, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

type Budget = { rebuildBudget: { record(ms: number): void } };

async function fixture() {
  const net = networkId(genesis);
  const X = await openLedger(memoryLocation(), 181, { compactEvery: 0 });
  for (const k of ['kx1', 'kx2', 'kx3']) await X.ledger.put(k, k);
  await X.ledger.close();
  const [alt] = await makeChain(X.keys, 1, net, X.log[0], 'alt');
  const qk = await keysFromByte(182);
  const q = toHex(qk.publicKey);
  const cq = clientIdOf(q);
  const xa = toHex(X.keys.publicKey);
  const q1 = await createEntry(
    {
      keys: qk,
      seq: 1,
      prev: new Uint8Array(32),
      lamport: 1,
      time: 1_700_000_200_000,
      clock: 1,
      deps: [{ author: xa, seq: 5 }],
      payload: yItemAnchoredAt(cq, 0, { client: clientIdOf(xa), clock: 1000 }, 'far')
    },
    net
  );
  const q2 = await createEntry(
    {
      keys: qk,
      seq: 2,
      prev: q1.hash,
      lamport: 2,
      time: 1_700_000_200_001,
      clock: 2,
      payload: yUpdateAt('kq', { v: 'q', a: q, t: 1_700_000_200_001, l: 2 }, cq, 1)
    },
    net
  );
  return { xs: X.log, alt, q1, q2 };
}

const view = (l: Ledger) => ({ ...ledgerView(l), yjsPending: l.stats().yjsPending, stale: l.stats().staleVoids });

describe('redteam6: a far reference into a stale void feed', () => {
  it('stale node and immediate node agree after the flush and after a reopen while stale', async () => {
    const f = await fixture();
    const a = await openLedger(memoryLocation(), 183, { compactEvery: 0 });
    await a.ledger.ingest([...f.xs, f.alt]);
    const ra = await a.ledger.ingest([f.q1, f.q2]);
    expect(ra.rejected).toEqual([]);
    expect(a.ledger.get('kq')).toBe('q');

    const opts = { compactEvery: 1, voidRebuild: { share: 0.1, windowMs: 60_000, now: () => 0 } };
    const locB = memoryLocation();
    const b = await openLedger(locB, 184, opts);
    await b.ledger.ingest(f.xs);
    (b.ledger as unknown as Budget).rebuildBudget.record(1e6);
    await b.ledger.ingest([f.alt]);
    expect(b.ledger.stats().staleVoids).toBe(1);
    const rb = await b.ledger.ingest([f.q1, f.q2]);
    expect(rb.rejected).toEqual([]);
    const locC = memoryLocation();
    const c = await openLedger(locC, 185, opts);
    await c.ledger.ingest(f.xs);
    (c.ledger as unknown as Budget).rebuildBudget.record(1e6);
    await c.ledger.ingest([f.alt, f.q1, f.q2]);
    await c.ledger.close(); // closed while stale
    const c2 = await openLedger(locC, 185, opts);

    await b.ledger.flushVoids();
    const want = view(a.ledger);
    expect(want.yjsPending).toBe(false);
    expect(view(b.ledger)).toEqual(want);
    expect(view(c2.ledger)).toEqual(want);
    await b.ledger.close();
    const b2 = await openLedger(locB, 184, opts);
    expect(view(b2.ledger)).toEqual(want);
    for (const l of [a, b2, c2].map((x) => ('ledger' in x ? x.ledger : x))) await l.close();
  });
});
