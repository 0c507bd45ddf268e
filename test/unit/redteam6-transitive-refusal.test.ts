// Red team 6: an entry refused while the state still shows a void feed's entries, whose ONLY
// dependency is an honest author that built on those entries (a transitive dependent of the void).
//
// X writes kx1 (seq 1) and kx2 (seq 2). Honest W overwrites kx2 (W#1 deps X@2). X then forks at
// seq 2: X is void from 2, X's kx2 item is GC, and so is W's overwrite (its origin is GC). Hostile
// Q signs a bare delete of W's item (deps W@1 only). A node that knows the fork sees a GC item and
// accepts Q (no record is deleted); a node whose state still shows W's record (fork not known yet,
// or the void rebuild deferred by the time budget) refuses Q (records-rules: a record deleted
// without writing its key). RefusedVariants re-judges after a void only the entries with a
// dependency ON THE VOID AUTHOR (dependingOn), so Q, which depends on W, is never re-judged.
import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import type { Ledger } from '../../src/lib/core/ledger.js';
import { deleteOnly, keysFromByte, makeChain } from '../helpers/ledger-fixtures.js';
import { genesis, ledgerView, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { networkId } from '../../src/lib/core/genesis.js';

interface Fixture {
  xs: HashedEntry[];
  alt: HashedEntry;
  w: HashedEntry;
  q: HashedEntry;
}

async function fixture(): Promise<Fixture> {
  const net = networkId(genesis);
  const X = await openLedger(memoryLocation(), 221, { compactEvery: 0 });
  await X.ledger.put('kx1', 1);
  await X.ledger.put('kx2', 2);
  await X.ledger.close();
  const xs = X.log;
  const [alt] = await makeChain(X.keys, 1, net, xs[0], 'alt'); // X's second seq 2
  const W = await openLedger(memoryLocation(), 222, { compactEvery: 0 });
  await W.ledger.ingest(xs);
  const w = await W.ledger.put('kx2', 'w');
  await W.ledger.close();
  expect(w.entry.deps.map((d) => d.seq)).toEqual([2]);
  const qk = await keysFromByte(223);
  const wa = toHex(W.keys.publicKey);
  const q = await createEntry(
    {
      keys: qk,
      seq: 1,
      prev: new Uint8Array(32),
      lamport: w.entry.lamport + 1,
      time: 1_700_000_100_000,
      clock: 0,
      deps: [{ author: wa, seq: 1 }],
      payload: deleteOnly(clientIdOf(wa), 0, 1)
    },
    net
  );
  return { xs, alt, w, q };
}

const view = (l: Ledger) => ledgerView(l);

describe('redteam6: refusals of transitive dependents of a void feed', () => {
  it('a node that knows the fork first accepts the bare delete of a GC item', async () => {
    const f = await fixture();
    const a = await openLedger(memoryLocation(), 230, { compactEvery: 0 });
    await a.ledger.ingest([...f.xs, f.w]);
    await a.ledger.ingest([f.alt]);
    const r = await a.ledger.ingest([f.q]);
    expect(r.rejected).toEqual([]);
    expect(r.added).toBe(1);
    await a.ledger.close();
  });

  // Input: X#1, X#2, W#1 (overwrites X's kx2), then Q#1 (bare delete of W's item, deps W@1), then
  //   X's second seq 2 (fork), each delivered once.
  // Expected: the same heads, records and digest as a node given the fork before Q#1.
  // Actual: Q#1 is refused (malformed-payload: deletes record "kx2" without writing its key) while
  //   W's record shows, and after the void rebuild nothing re-judges it (RefusedVariants.dependingOn
  //   only looks at direct deps on the void author): Q's head is missing until a sync re-offer.
  // Fixed (ledger.ts: a failed evidence write rebuilds; a failed void rebuild is retried; every
  //   remembered refusal is judged again after a void rebuild). Since h/carry, only those naming an
  //   author whose items turned GC in the rebuild (W here: its overwrite's origin is GC) or a
  //   dependency at or above the fork seq (rejudge.ts); without the GC part this test fails.
  // Suggested fix was: after a void (immediate or deferred rebuild), re-judge every remembered refused
  //   entry (or those whose deps reach the void author transitively), not only direct dependents.
  it('fork learnt AFTER the dependent-of-a-dependent was refused: same heads on single delivery', async () => {
    const f = await fixture();
    const a = await openLedger(memoryLocation(), 231, { compactEvery: 0 });
    await a.ledger.ingest([...f.xs, f.w]);
    await a.ledger.ingest([f.alt]);
    await a.ledger.ingest([f.q]);
    const b = await openLedger(memoryLocation(), 232, { compactEvery: 0 });
    await b.ledger.ingest([...f.xs, f.w]);
    const rq = await b.ledger.ingest([f.q]);
    expect(rq.rejected.map((r) => r.code)).toEqual(['malformed-payload']);
    await b.ledger.ingest([f.alt]);
    expect(view(b.ledger)).toEqual(view(a.ledger));
  });

  // Input: as above, but B learns the fork first with its void rebuild DEFERRED (budget spent),
  //   then Q#1 arrives during the stale window, then flushVoids.
  // Expected: after the deferred rebuild, the same heads as an immediate node (brief: "entries
  //   refused during the stale window are re-judged").
  // Actual: Q#1 refused against the stale state and not carried by rebuildStaleVoids (it carries
  //   pending entries and refused entries with a DIRECT dep on the stale author only).
  // Fixed (ledger.ts: a failed evidence write rebuilds; a failed void rebuild is retried; every
  //   remembered refusal is judged again after a void rebuild).
  // Suggested fix was: rebuildStaleVoids carries every refused entry seen during the stale window.
  it('deferred rebuild: an entry refused during the stale window is re-judged after the flush', async () => {
    const f = await fixture();
    const a = await openLedger(memoryLocation(), 233, { compactEvery: 0 });
    await a.ledger.ingest([...f.xs, f.w]);
    await a.ledger.ingest([f.alt]);
    await a.ledger.ingest([f.q]);
    let t = 0;
    const b = await openLedger(memoryLocation(), 234, {
      compactEvery: 0,
      voidRebuild: { share: 0.1, windowMs: 60_000, now: () => t }
    });
    await b.ledger.ingest([...f.xs, f.w]);
    (b.ledger as unknown as { rebuildBudget: { record(ms: number): void } }).rebuildBudget.record(10_000);
    await b.ledger.ingest([f.alt]);
    expect(b.ledger.stats().staleVoids).toBe(1);
    const rq = await b.ledger.ingest([f.q]);
    expect(rq.rejected.map((r) => r.code)).toEqual(['malformed-payload']);
    await b.ledger.flushVoids();
    expect(b.ledger.stats().staleVoids).toBe(0);
    t = 1e9;
    expect(view(b.ledger)).toEqual(view(a.ledger));
    await b.ledger.close();
  });

  // Input: X#1, X#2, W#1, X's second seq 2 and Q#1 in ONE ingest batch, vs. the same entries in
  //   three batches ([X#1, X#2, W#1], [X#2'], [Q#1]).
  // Expected: the same heads (acceptance must not depend on batching).
  // Actual: in one batch Q#1 is judged before the batch's void is applied (W's struct is still a
  //   record item in the batch), refused, and not re-judged after the void (not a direct dependent).
  // Fixed (ledger.ts: a failed evidence write rebuilds; a failed void rebuild is retried; every
  //   remembered refusal is judged again after a void rebuild).
  // Suggested fix was: as above: re-judge all refused entries of a batch that voided a feed.
  it('one batch or three: the same heads', async () => {
    const f = await fixture();
    const a = await openLedger(memoryLocation(), 235, { compactEvery: 0 });
    await a.ledger.ingest([...f.xs, f.w]);
    await a.ledger.ingest([f.alt]);
    await a.ledger.ingest([f.q]);
    const b = await openLedger(memoryLocation(), 236, { compactEvery: 0 });
    await b.ledger.ingest([...f.xs, f.w, f.alt, f.q]);
    expect(view(b.ledger)).toEqual(view(a.ledger));
  });

  it('in every case a later re-offer of Q#1 (as sync does) heals it: the divergence is not permanent', async () => {
    const f = await fixture();
    const a = await openLedger(memoryLocation(), 237, { compactEvery: 0 });
    await a.ledger.ingest([...f.xs, f.w]);
    await a.ledger.ingest([f.alt]);
    await a.ledger.ingest([f.q]);
    const b = await openLedger(memoryLocation(), 238, { compactEvery: 0 });
    await b.ledger.ingest([...f.xs, f.w, f.alt, f.q]);
    const c = await openLedger(memoryLocation(), 239, { compactEvery: 0 });
    await c.ledger.ingest([...f.xs, f.w]);
    await c.ledger.ingest([f.q]);
    await c.ledger.ingest([f.alt]);
    for (const n of [b, c]) await n.ledger.ingest([f.q]);
    expect(view(b.ledger)).toEqual(view(a.ledger));
    expect(view(c.ledger)).toEqual(view(a.ledger));
  });
});
