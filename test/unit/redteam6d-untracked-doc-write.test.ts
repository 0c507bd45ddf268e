// Red team 6d (issue 6 kind "every change to the shared state goes through a signed entry; no API
// path changes the document without one"; "reads return durable state only"): `Ledger.doc` is a
// public getter of the live Y.Doc, and registerType/transact hand out live types too. A write made
// on them directly (an editor binding, an app that skips `transact`) changed the state at once
// with no signed entry: the state digest moved, the text showed on reads, `stats().entries` stayed
// the same. LedgerState hands such writes to `onUntrackedWrite`, but the Ledger did not listen. The
// next honest `put` then failed with CausalityError ("struct at clock 3, expected 1": the local
// precheck saw the author's clock move without an entry), and its rebuild dropped the write again.
//
// Input: node N puts a = 1, then runs `N.ledger.doc.getText('t').insert(0, 'hi')`, then puts b = 0.
// Expected: the direct write is either signed as an entry (as `transact` does) or refused/undone;
//   the next put succeeds.
// Was (measured): digest changed with 1 entry; text 'hi' readable; put b = 0 rejected with
//   CausalityError; after it the text was gone.
// Fixed (untracked-writes.ts): the Ledger signs a direct change as an entry of its own, before any
//   write requested after it (also one already queued, or one whose change follows it while an
//   earlier write is being signed). One the local rules refuse (a bare record delete here) is
//   undone by a rebuild from the store. stats().untracked counts both. The synchronous check of the
//   original test (state unchanged at once) cannot hold for a live Y.Doc: it now checks that the
//   change is durable (it survives a reopen) and that the next put works.
import { describe, expect, it } from 'vitest';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

describe('redteam6d: a direct write on Ledger.doc', () => {
  it('is signed as an entry, survives a reopen, and the next put still works', async () => {
    const loc = memoryLocation();
    let N = await openLedger(loc, 91, { compactEvery: 0 });
    await N.ledger.put('a', '1');
    const before = N.ledger.stats();
    N.ledger.doc.getText('t').insert(0, 'hi');
    await N.ledger.put('b', '0');
    expect(N.ledger.get('b')).toBe('0');
    const after = N.ledger.stats();
    expect(after.entries).toBe(before.entries + 2);
    expect(after.untracked).toEqual({ signed: 1, undone: 0 });
    const digest = after.stateDigest;
    await N.ledger.close();
    N = await openLedger(loc, 91, { compactEvery: 0 });
    expect(N.ledger.doc.getText('t').toString()).toBe('hi');
    expect(N.ledger.stats().stateDigest).toBe(digest);
    await N.ledger.put('c', '2');
    expect(N.ledger.stats().entries).toBe(before.entries + 3);
  });

  it('is signed before a write queued ahead of it, and before one whose change follows it', async () => {
    const loc = memoryLocation();
    let N = await openLedger(loc, 92, { compactEvery: 0 });
    N.ledger.registerType('t', 'text');
    await N.ledger.put('a', '1');
    // Queued, not yet applied, when the direct write happens: the direct write comes first.
    const queued = N.ledger.put('q', 'v');
    N.ledger.doc.getText('t').insert(0, 'x');
    // A direct write made while a transact's entry is being signed (its change is already made):
    // signed after it, and before the put requested next.
    const t = N.ledger.transact((doc) => {
      doc.getText('t').insert(1, 'y');
      queueMicrotask(() => N.ledger.doc.getText('t').insert(2, 'z'));
    });
    const last = N.ledger.put('b', '2');
    await Promise.all([queued, t, last]);
    expect(N.ledger.doc.getText('t').toString()).toBe('xyz');
    expect(N.ledger.stats().untracked).toEqual({ signed: 2, undone: 0 });
    const { entries, stateDigest } = N.ledger.stats();
    expect(entries).toBe(6);
    await N.ledger.close();
    N = await openLedger(loc, 92, { compactEvery: 0 });
    expect(N.ledger.doc.getText('t').toString()).toBe('xyz');
    expect(N.ledger.get('q')).toBe('v');
    expect(N.ledger.stats()).toMatchObject({ entries, stateDigest });
  });

  it('is undone when the local rules refuse it, and the next put still works', async () => {
    const N = await openLedger(memoryLocation(), 93, { compactEvery: 0 });
    await N.ledger.put('a', '1');
    const before = N.ledger.stats();
    N.ledger.doc.getMap('records').delete('a'); // a record delete must write its key (records-rules.ts)
    await N.ledger.put('b', '0');
    expect(N.ledger.get('a')).toBe('1');
    expect(N.ledger.get('b')).toBe('0');
    expect(N.ledger.stats()).toMatchObject({ entries: before.entries + 1, untracked: { signed: 0, undone: 1 } });
  });
});
