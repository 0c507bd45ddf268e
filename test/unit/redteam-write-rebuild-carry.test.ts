// A local write that must rebuild memory from the store (it built on items of a void whose rebuild
// was deferred, or it failed half-way) used to drop the entries held for missing predecessors:
// they then waited for sync to fetch them again. They are carried over now, as the deferred void
// rebuild itself does (redteam6-stale-pending), and the write's rebuild does that rebuild's
// bookkeeping (a compaction follows; stats().staleVoids 0).
import { describe, expect, it } from 'vitest';
import { networkId } from '../../src/lib/core/genesis.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { MemoryLedgerStore } from '../../src/lib/core/memory-store.js';
import { PENDING_MAX_AGE_MS } from '../../src/lib/core/constants.js';
import { causalRefusals, makeChain } from '../helpers/ledger-fixtures.js';
import { genesis, ledgerView, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

type Budget = { rebuildBudget: { record(ms: number): void } };

/** X writes kx1..kx3 then forks at seq 2; W overwrote kx2 on top of X's; H writes h1..h3. */
async function fixture(): Promise<{ xs: HashedEntry[]; alt: HashedEntry; w: HashedEntry; hs: HashedEntry[] }> {
  const X = await openLedger(memoryLocation(), 221, { compactEvery: 0 });
  for (const k of ['kx1', 'kx2', 'kx3']) await X.ledger.put(k, k);
  await X.ledger.close();
  const [alt] = await makeChain(X.keys, 1, networkId(genesis), X.log[0], 'alt');
  const W = await openLedger(memoryLocation(), 222, { compactEvery: 0 });
  await W.ledger.ingest(X.log);
  const w = await W.ledger.put('kx2', 'w');
  await W.ledger.close();
  const H = await openLedger(memoryLocation(), 223, { compactEvery: 0 });
  for (const k of ['h1', 'h2', 'h3']) await H.ledger.put(k, k);
  await H.ledger.close();
  return { xs: X.log, alt: alt!, w: w!, hs: H.log };
}

describe('a local write that rebuilds memory keeps the entries held for missing predecessors', () => {
  it('deferred void: the put rebuilds, h2 and h3 stay held and apply when h1 comes; staleVoids 0; a compaction follows', async () => {
    const f = await fixture();
    const n = await openLedger(memoryLocation(), 224, {
      voidRebuild: { share: 0.1, windowMs: 60_000, now: () => 0 }
    });
    await n.ledger.ingest([...f.xs, f.w]);
    (n.ledger as unknown as Budget).rebuildBudget.record(1e6); // the void's rebuild must wait
    await n.ledger.ingest([f.alt]);
    expect(n.ledger.stats().staleVoids).toBe(1);
    await n.ledger.ingest([f.hs[1]!, f.hs[2]!]); // h1 missing: held
    expect(n.ledger.stats().pending).toBe(2);
    const compactions = async () => (await n.store.loadCompaction())?.at;
    const before = await compactions();

    await n.ledger.put('kx2', 'mine'); // built on W's item of the stale void: rebuilds, writes again
    // Counted while their carry step waits in the queue (the rebuilt FeedSet holds none yet).
    expect(n.ledger.stats()).toMatchObject({ staleVoids: 0, pending: 2 });
    await n.ledger.idle();
    expect(n.ledger.stats().pending).toBe(2);
    await n.ledger.ingest([f.hs[0]!]);
    expect(n.ledger.stats().pending).toBe(0);
    expect(['h1', 'h2', 'h3', 'kx2'].map((k) => n.ledger.get(k))).toEqual(['h1', 'h2', 'h3', 'mine']);
    await n.ledger.idle();
    expect(await compactions()).not.toBe(before);

    // Same state as a node given everything at once (the write included).
    const own = n.log.filter((h) => h.entry.author.every((b, i) => b === n.keys.publicKey[i]));
    const ref = await openLedger(memoryLocation(), 225, { compactEvery: 0 });
    await ref.ledger.ingest([...f.xs, f.w, f.alt, ...f.hs, ...own]);
    expect(ledgerView(ref.ledger).records).toBe(ledgerView(n.ledger).records);
    expect(ledgerView(ref.ledger).digest).toBe(ledgerView(n.ledger).digest);
  });

  it('deferred void: the put that rebuilds queues the refusals the void can make acceptable for re-judging', async () => {
    const f = await fixture();
    const n = await openLedger(memoryLocation(), 226, {
      voidRebuild: { share: 0.1, windowMs: 60_000, now: () => 0 }
    });
    await n.ledger.ingest([...f.xs, f.w]);
    // J's second entry names W's entry as a dependency with a lamport too high: refused until W's
    // item (over X's voided kx2) turns GC (test/helpers/ledger-fixtures.ts causalRefusals).
    const refusals = await causalRefusals(1, { author: toHex(f.w.entry.author), seq: 1 }, networkId(genesis));
    await n.ledger.ingest(refusals);
    (n.ledger as unknown as Budget).rebuildBudget.record(1e6);
    await n.ledger.ingest([f.alt]);
    expect(n.ledger.stats()).toMatchObject({ staleVoids: 1, rejudgeDue: 0 });
    await n.ledger.put('kx2', 'mine');
    expect(n.ledger.stats()).toMatchObject({ staleVoids: 0, rejudgeDue: 1 });
  });

  it('a write whose commit fails keeps the held entries too; they apply once their predecessor comes', async () => {
    const f = await fixture();
    const store = new MemoryLedgerStore();
    const n = await openLedger(memoryLocation(), 227, { store });
    await n.ledger.ingest([f.hs[1]!, f.hs[2]!]);
    expect(n.ledger.stats().pending).toBe(2);
    store.faults = { failOnTable: 'entries' };
    await expect(n.ledger.put('k', 1)).rejects.toThrow();
    expect(n.ledger.stats().pending).toBe(2);
    await n.ledger.idle();
    expect(n.ledger.stats().pending).toBe(2);
    await n.ledger.ingest([f.hs[0]!]);
    expect(['h1', 'h2', 'h3', 'k'].map((k) => n.ledger.get(k))).toEqual(['h1', 'h2', 'h3', undefined]);
  });

  it('carried entries keep their age: held ones leave 10 minutes after they came, however many writes failed since', async () => {
    const f = await fixture();
    const store = new MemoryLedgerStore();
    let t = 1_700_000_000_000;
    const n = await openLedger(memoryLocation(), 228, { store, now: () => t });
    await n.ledger.ingest([f.hs[1]!, f.hs[2]!]); // h1 missing: held from t0
    for (let i = 0; i < 3; i++) {
      t += PENDING_MAX_AGE_MS / 4; // a write fails every 2.5 minutes: each rebuilds and carries them
      store.faults = { failOnTable: 'entries' };
      await expect(n.ledger.put('k', i)).rejects.toThrow();
      await n.ledger.idle();
      expect(n.ledger.stats().pending).toBe(2);
    }
    t += PENDING_MAX_AGE_MS / 4; // ten minutes after they came (two and a half after the last carry)
    await n.ledger.put('k', 'ok'); // an ingest step of its own; expiry runs on the next ingest
    await n.ledger.ingest([f.xs[0]!]);
    expect(n.ledger.stats().pending).toBe(0);
    // Gone, not applied: h1 then applies alone, h2 and h3 come again by sync.
    await n.ledger.ingest([f.hs[0]!]);
    expect(['h1', 'h2', 'h3'].map((k) => n.ledger.get(k))).toEqual(['h1', undefined, undefined]);
  });
});
