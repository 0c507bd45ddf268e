// Red team 6d (issue 6 kind "every change to the shared state goes through a signed entry; no API
// path changes the document without one"; "reads return durable state only"): `Ledger.doc` is a
// public getter of the live Y.Doc. A write made on it directly (an editor binding, an app that
// skips `transact`) changes the state at once with no signed entry: the state digest moves, the
// text shows on reads, `stats().entries` stays the same. LedgerState hands such writes to
// `onUntrackedWrite`, but the Ledger does not listen. The next honest `put` then fails with
// CausalityError ("struct at clock 3, expected 1": the local precheck sees the author's clock moved
// without an entry), and its rebuild drops the unsigned write again.
//
// Input: node N puts a = 1, then runs `N.ledger.doc.getText('t').insert(0, 'hi')`, then puts b = 0.
// Expected: the direct write is either signed as an entry (as `transact` does) or refused/undone
//   at once (state digest unchanged, text empty); the next put succeeds.
// Actual (measured): digest changed with 1 entry; text 'hi' readable; put b = 0 rejects with
//   CausalityError; after it the text is gone and later puts work.
// Suggested fix: make `doc` read-only to callers (expose a read view, or have the Ledger subscribe
//   to onUntrackedWrite and throw / roll back by a rebuild at once), or route untracked writes
//   through the signing path the way `transact` does.
import { describe, expect, it } from 'vitest';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

describe('redteam6d: a direct write on Ledger.doc', () => {
  it.fails('never changes the state without a signed entry, and the next put still works', async () => {
    const N = await openLedger(memoryLocation(), 91, { compactEvery: 0 });
    await N.ledger.put('a', '1');
    const before = N.ledger.stats();
    N.ledger.doc.getText('t').insert(0, 'hi');
    const after = N.ledger.stats();
    const signed = after.entries > before.entries;
    if (!signed) {
      expect({ digest: after.stateDigest, text: N.ledger.doc.getText('t').toString() }).toEqual({
        digest: before.stateDigest,
        text: ''
      });
    }
    await N.ledger.put('b', '0');
    expect(N.ledger.get('b')).toBe('0');
  });
});
