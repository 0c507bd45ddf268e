// Red team 6e (issue 6 kinds "every change to the shared state goes through a signed entry" and
// "the write queue never stalls"; untracked-writes.ts, landed today): a direct write on
// `Ledger.doc` queues ONE write that signs the waiting changes; UntrackedWrites.add queues a new
// one only when none is queued, and the flag was cleared only when that write ran its change
// (take). A queued write refused before its change ran left the flag set for good:
//   (a) a broken ledger (a failed write whose rebuild failed too) refuses the queued write at the
//       start of its group; after `reload()` works again, every later direct write waits for a
//       put/delete/transact that may never come (an editor binding only writes directly): the
//       document shows it, stats().entries does not move, a restart loses it;
//   (b) this node's own feed is void (its key signed two entries at one seq elsewhere): the queued
//       write is refused before its change ran and not marked dirty, so the change stays in the
//       document for good: neither signed nor undone (stats().untracked { signed: 0, undone: 0 }).
//
// Input (a): put a; a put whose store write and rebuild fail (broken); a direct write; reload();
//   then `doc.getText('t').insert(0, 'hello')` and wait.
// Expected: the write is signed (entries 2, untracked.signed 1) and survives a reopen.
// Was (measured): entries 1, untracked { signed: 0, undone: 1 } (the one dropped by the reload),
//   the text 'hello' shown, gone after a reopen.
// Input (b): N puts a; a twin with N's key puts a at seq 1; N ingests it (own feed void); a
//   direct write `insert(0, 'x')`; wait.
// Expected: the change is undone (text '', untracked.undone 1).
// Was (measured): text 'x' for good, untracked { signed: 0, undone: 0 }.
// Input (c): a void rebuild is deferred (rebuild budget spent: stats().staleVoids 1); a direct
//   `doc.getMap('records').set('kx2', 'raw')` over the voided author's record; wait.
// Expected: undone by the rebuild that the write runs first (it builds on a stale void), and
//   counted: untracked { signed: 0, undone: 1 }.
// Was (measured): undone, but counted nowhere ({ signed: 0, undone: 0 }): the write ran its
//   change again after the rebuild and took nothing the second time.
// Severity: medium (a) / low (b) / low (c: stats only): local API only, but (a) silently loses an editor's writes after
//   any recovered storage fault.
// Fixed: the queued write's reject clears the flag when it never ran its change
//   (UntrackedWrites.unqueue; not re-queued, a broken ledger would refuse it again at once), and
//   with the own feed void an untracked write with changes waiting is dirty, so the rebuild undoes them;
//   (c) a write whose change runs again after a rebuild counts what it took first as undone.
import { describe, expect, it } from 'vitest';
import { MemoryDisk, MemoryLedgerStore } from '../../src/lib/core/memory-store.js';
import { networkId } from '../../src/lib/core/genesis.js';
import { makeChain } from '../helpers/ledger-fixtures.js';
import { genesis, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

const settle = () => new Promise((r) => setTimeout(r, 30));

describe('redteam6e: the untracked write queue after a refused queued write', () => {
  it('Fixed: after a broken ledger is reloaded, a direct write is signed again', async () => {
    const disk = new MemoryDisk();
    const store = new MemoryLedgerStore({ disk });
    const t = await openLedger(memoryLocation(disk), 1, { store, compactEvery: 0 });
    await t.ledger.put('a', 1);
    const appendLocal = store.appendLocal.bind(store);
    const loadCompaction = store.loadCompaction.bind(store);
    store.appendLocal = () => Promise.reject(new Error('write failed'));
    store.loadCompaction = () => Promise.reject(new Error('read failed')); // the rebuild fails too
    await expect(t.ledger.put('b', 2)).rejects.toThrow('write failed');
    store.appendLocal = appendLocal;
    store.loadCompaction = loadCompaction;
    t.ledger.doc.getText('t').insert(0, 'lost'); // its queued write is refused (broken)
    await settle();
    await t.ledger.reload();
    expect(t.ledger.stats().untracked).toEqual({ signed: 0, undone: 1 });
    t.ledger.doc.getText('t').insert(0, 'hello');
    await settle();
    expect(t.ledger.stats()).toMatchObject({ entries: 2, untracked: { signed: 1, undone: 1 } });
    await t.ledger.close();
    const again = await openLedger(memoryLocation(disk), 1, { compactEvery: 0 });
    expect(again.ledger.doc.getText('t').toString()).toBe('hello');
    await again.ledger.close();
  });

  it('Fixed: with the own feed void, a direct write is undone, not left unsigned', async () => {
    const N = await openLedger(memoryLocation(), 1, { compactEvery: 0 });
    const twin = await openLedger(memoryLocation(), 1, { compactEvery: 0 });
    await N.ledger.put('a', 1);
    await twin.ledger.put('a', 2);
    await N.ledger.ingest(twin.log);
    expect(N.ledger.voidFrom(N.ledger.author)).toBe(1);
    N.ledger.doc.getText('t').insert(0, 'x');
    await settle();
    expect(N.ledger.doc.getText('t').toString()).toBe('');
    expect(N.ledger.stats().untracked).toEqual({ signed: 0, undone: 1 });
    await expect(N.ledger.put('b', 1)).rejects.toMatchObject({ name: 'StateUsageError' });
  });

  it('Fixed: a direct write undone by the rebuild a stale void needs is counted as undone', async () => {
    const X = await openLedger(memoryLocation(), 251, { compactEvery: 0 });
    for (const k of ['kx1', 'kx2', 'kx3']) await X.ledger.put(k, k);
    const [alt] = await makeChain(X.keys, 1, networkId(genesis), X.log[0], 'alt');
    const opts = { compactEvery: 0, voidRebuild: { share: 0.1, windowMs: 60_000, now: () => 0 } };
    const n = await openLedger(memoryLocation(), 150, opts);
    await n.ledger.ingest([...X.log]);
    (n.ledger as unknown as { rebuildBudget: { record(ms: number): void } }).rebuildBudget.record(1e6);
    await n.ledger.ingest([alt]);
    expect(n.ledger.stats().staleVoids).toBe(1);
    n.ledger.doc.getMap('records').set('kx2', 'raw');
    await settle();
    expect(n.ledger.stats()).toMatchObject({ staleVoids: 0, untracked: { signed: 0, undone: 1 } });
    expect(n.ledger.doc.getMap('records').get('kx2')).toBeUndefined();
  });
});
