// Red team 6: a careful user writing while a void rebuild is deferred (rebuild-budget.ts). The
// node already KNOWS the fork, but its state still shows the voided entries (stats().staleVoids).
// X writes kx1, kx2, kx3; honest W overwrites kx2 (deps X@2); X then forks at seq 2. On a node
// that rebuilt at once, kx2 and kx3 are gone and a put of either creates a fresh record. On a node
// whose rebuild waits, the user's put lands on top of the voided items.
import { describe, expect, it } from 'vitest';
import { networkId } from '../../src/lib/core/genesis.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { makeChain } from '../helpers/ledger-fixtures.js';
import { genesis, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

type Budget = { rebuildBudget: { record(ms: number): void } };

async function fixture(): Promise<{ xs: HashedEntry[]; alt: HashedEntry; w: HashedEntry }> {
  const X = await openLedger(memoryLocation(), 251, { compactEvery: 0 });
  for (const k of ['kx1', 'kx2', 'kx3']) await X.ledger.put(k, k);
  await X.ledger.close();
  const [alt] = await makeChain(X.keys, 1, networkId(genesis), X.log[0], 'alt');
  const W = await openLedger(memoryLocation(), 252, { compactEvery: 0 });
  await W.ledger.ingest(X.log);
  const w = await W.ledger.put('kx2', 'w');
  await W.ledger.close();
  return { xs: X.log, alt, w };
}

async function node(byte: number, deferred: boolean) {
  const f = await fixture();
  const loc = memoryLocation();
  const opts = { compactEvery: 0, voidRebuild: { share: 0.1, windowMs: 60_000, now: () => 0 } };
  const n = await openLedger(loc, byte, opts);
  await n.ledger.ingest([...f.xs, f.w]);
  if (deferred) (n.ledger as unknown as Budget).rebuildBudget.record(1e6);
  await n.ledger.ingest([f.alt]);
  expect(n.ledger.stats().staleVoids).toBe(deferred ? 1 : 0);
  return { n, loc, opts, f };
}

describe('redteam6: local writes during a deferred void rebuild', () => {
  it('immediate rebuild: a put over a voided key creates a fresh, visible record', async () => {
    const { n } = await node(150, false);
    expect(n.ledger.get('kx2')).toBeUndefined();
    await n.ledger.put('kx2', 'mine');
    await n.ledger.put('kx3', 'mine3');
    expect([n.ledger.get('kx2'), n.ledger.get('kx3')]).toEqual(['mine', 'mine3']);
    await n.ledger.close();
  });

  // Input: the fork is known (void from 2) but its rebuild is deferred; the user puts kx2, which
  //   the stale state shows as W's overwrite of X's voided kx2.
  // Expected: as on a node that rebuilt at once: the durable, resolved put stays visible, here
  //   and on every node that receives it.
  // Actual: the new item names W's item (void everywhere) as its origin, so after the rebuild (and
  //   on every other node) it is GC: a write the node acknowledged as durable, made AFTER the node
  //   knew the fork, silently vanishes.
  // Fixed (ledger.ts localStamp/commitGroup): a local write that references another author's
  //   items while a void rebuild waits rebuilds first and is written again.
  // Suggested fix was: refuse (or hold) local writes to keys whose current item is in a stale void
  //   (or rebuild before a local write when staleVoids > 0, i.e. flush on write).
  it('deferred rebuild: a put over a key the stale state shows from a void stays visible', async () => {
    const { n } = await node(151, true);
    expect(n.ledger.get('kx2')).toBe('w'); // stale view
    await n.ledger.put('kx2', 'mine');
    await n.ledger.flushVoids();
    expect(n.ledger.get('kx2')).toBe('mine');
    await n.ledger.close();
  });

  // Input: as above, the user puts kx3, whose current item is X's own voided item (seq 3).
  // Expected: the put succeeds and stays visible (as on an immediate node).
  // Actual: the put rejects with CausalityError ("references <X>:2+1, beyond 1 in its
  //   dependency"): localStamp takes X's APPLIED head (seq 1, void from 2) as the dependency while
  //   the stale state still shows X's seq 3 item as the origin. The failed (dirty) write then runs
  //   a full rebuild outside the rebuild budget, after which stats().staleVoids still says 1. A
  //   retry succeeds. No divergence, but a user-visible failure any forker can cause.
  // Suggested fix: flush a stale void rebuild before a local write (or before signing one).
  it("deferred rebuild: a put over X's own voided record succeeds and stays visible", async () => {
    const { n } = await node(152, true);
    expect(n.ledger.get('kx3')).toBe('kx3');
    let error: unknown;
    await n.ledger.put('kx3', 'mine3').catch((e: unknown) => (error = e));
    await n.ledger.flushVoids();
    expect({ error: (error as Error | undefined)?.name, value: n.ledger.get('kx3') }).toEqual({
      error: undefined,
      value: 'mine3'
    });
    await n.ledger.close();
  });

  it('deferred rebuild: the kx3 put succeeds at once and sticks (the write rebuilds first)', async () => {
    const { n } = await node(154, true);
    await n.ledger.put('kx3', 'mine3');
    expect(n.ledger.stats().staleVoids).toBe(0);
    await n.ledger.flushVoids();
    expect(n.ledger.get('kx3')).toBe('mine3');
    await n.ledger.close();
  });

  it('the ledger stays usable and consistent after those writes (same state after a reopen)', async () => {
    const { n, loc, opts } = await node(153, true);
    await n.ledger.put('kx2', 'mine').catch(() => undefined);
    await n.ledger.put('kx3', 'mine3').catch(() => undefined);
    await n.ledger.put('fresh', 1);
    await n.ledger.flushVoids();
    expect(n.ledger.stats().staleVoids).toBe(0);
    const before = { records: n.ledger.records(), heads: n.ledger.heads(), d: n.ledger.stats().stateDigest };
    await n.ledger.close();
    const again = await openLedger(loc, 153, opts);
    expect({
      records: again.ledger.records(),
      heads: again.ledger.heads(),
      d: again.ledger.stats().stateDigest
    }).toEqual(before);
    expect(again.ledger.get('fresh')).toBe(1);
    await again.ledger.close();
  });
});
