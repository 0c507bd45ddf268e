// Red team 6e (issue 6 kinds "a node never produces an entry it would refuse itself" and "every
// change to the shared state goes through a signed entry"; untracked-writes.ts, landed today):
// direct changes on `Ledger.doc` made while the queue is busy (a commit in flight, an ingest, a
// void rebuild) wait, and the write that signs them took ALL of them, merged into one payload.
// Changes that each fit in an entry (genesis.maxEntryBytes, 64 KiB by default) could together
// exceed it: signLocal refused the merged entry (OversizedEntryError) and the rebuild undid every
// one of them. An editor binding loses a user's paste plus the typing around it whenever a commit
// is slow, with nobody hostile involved.
//
// Input: put a; a second put whose store write takes 30 ms; during it three direct inserts into
//   a registered text of 20,000, 20,000 and 30,000 characters; wait.
// Expected: all three signed (each fits in 64 KiB), text length 70,000, and it survives a reopen.
// Was (measured): untracked { signed: 0, undone: 3 }, text length 0, entries 2 (the two puts).
// Severity: medium (local data loss under normal load; no remote trigger).
// Fixed: UntrackedWrites.take merges the oldest waiting changes only while their payloads fit in
// maxEntryBytes minus ENTRY_HEADROOM_BYTES (the most the other fields can take; at least one
// change); the rest are signed by a write of their own, still before any write requested after them.
import { describe, expect, it } from 'vitest';
import { MemoryDisk, MemoryLedgerStore } from '../../src/lib/core/memory-store.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('redteam6e: direct changes made while the queue is busy', () => {
  it('Fixed: changes that each fit in an entry are all signed, not undone together', async () => {
    const disk = new MemoryDisk();
    const store = new MemoryLedgerStore({ disk });
    const N = await openLedger(memoryLocation(disk), 1, { store, compactEvery: 0 });
    N.ledger.registerType('t', 'text');
    await N.ledger.put('a', 1);
    const appendLocal = store.appendLocal.bind(store);
    store.appendLocal = async (h) => {
      await sleep(30); // a slow commit: the direct changes below all wait behind it
      return appendLocal(h);
    };
    const p = N.ledger.put('b', 2);
    await sleep(5);
    const text = N.ledger.doc.getText('t');
    text.insert(0, 'x'.repeat(20_000));
    text.insert(0, 'y'.repeat(20_000));
    text.insert(0, 'z'.repeat(30_000));
    await p;
    await N.ledger.put('c', 3); // after the direct changes: they are signed first
    expect(N.ledger.stats().untracked).toEqual({ signed: 3, undone: 0 });
    expect(N.ledger.doc.getText('t').length).toBe(70_000);
    const digest = N.ledger.stats().stateDigest;
    await N.ledger.close();
    const again = await openLedger(memoryLocation(disk), 1, { compactEvery: 0 });
    expect(again.ledger.doc.getText('t').length).toBe(70_000);
    expect(again.ledger.stats().stateDigest).toBe(digest);
    expect(again.ledger.get('c')).toBe(3);
    await again.ledger.close();
  });
});
