// Red team 6f (issue 6 kinds "every change to the shared state goes through a signed entry" and
// "stored = shown"; state/doc.ts onUpdate, untracked-writes.ts): a change made on `Ledger.doc` by
// `Y.applyUpdate(ledger.doc, update, origin)` (a Yjs provider or persistence bound to the document:
// y-indexeddb, y-webrtc, an app's own import) is a transaction Yjs marks non-local, and
// LedgerState.onUpdate ignored every non-local transaction, whatever its origin (the ledger's own
// applies all use ORIGIN_REMOTE / ORIGIN_SNAPSHOT). Such a change was neither signed nor undone
// nor counted, and the next compaction stored it: with another client's structs the NEXT OPEN
// FAILS (CorruptStoreError, the profile no longer opens); with a bare delete the node's state and
// its reopen lack content that every node given the same entries shows (another digest, same heads).
//
// Input (a): A puts a; `Y.applyUpdate(A.doc, <text 'foreign' by client 12345>, 'provider')`;
//   A puts b; compact(); close; reopen; C ingests A's entries.
// Expected: the change is undone (foreign structs: the local rules refuse it): text '', untracked
//   { signed: 0, undone: 1 }; A (live and reopened) and C show one digest.
// Was (measured): text 'foreign' kept, untracked { signed: 0, undone: 0 }, and the reopen throws
//   CorruptStoreError ("the compacted state holds writes of client 12345, which no head covers").
// Input (b): A's text holds 'hello' (signed); a copy of the document deletes it; the copy's
//   diff is applied to A.doc with `Y.applyUpdate`; close; reopen; C ingests A's entries.
// Expected: the delete is signed (A's entry: untracked.signed 2), C shows '' as A does.
// Was (measured): no entry (signed 1); A '' live and reopened, C 'hello'; digests differ.
// Severity: high for (a) (a store that no longer opens; as 6e-1), medium for (b) (state and
//   entries disagree for good). Local API only, but a common way to bind a Yjs document.
// Fixed: onUpdate hands over every transaction whose origin is not the ledger's own
//   (ORIGIN_REMOTE, ORIGIN_SNAPSHOT), local or not: signed as a direct change, or undone.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { MemoryDisk } from '../../src/lib/core/memory-store.js';
import { memoryLocation, openLedger, type TestLedger } from '../helpers/ledger-nodes.js';

const settle = async (t: TestLedger) => {
  await new Promise((r) => setTimeout(r, 10));
  await t.ledger.idle();
  await t.ledger.idle();
};

async function replayed(t: TestLedger) {
  const C = await openLedger(memoryLocation(), 70, { compactEvery: 0 });
  await C.ledger.ingest(t.log);
  const out = { digest: C.ledger.stats().stateDigest, text: C.ledger.doc.getText('t').toString() };
  await C.ledger.close();
  return out;
}

describe('redteam6f: a change applied to Ledger.doc with Y.applyUpdate', () => {
  it('Fixed: foreign structs applied directly are undone, not kept and compacted', async () => {
    const disk = new MemoryDisk();
    const A = await openLedger(memoryLocation(disk), 61, { compactEvery: 0 });
    A.ledger.registerType('t', 'text');
    await A.ledger.put('a', 1);
    const other = new Y.Doc();
    other.clientID = 12345;
    other.getText('t').insert(0, 'foreign');
    Y.applyUpdate(A.ledger.doc, Y.encodeStateAsUpdate(other), 'provider');
    await settle(A);
    await A.ledger.put('b', 2);
    await A.ledger.compact();
    const live = { digest: A.ledger.stats().stateDigest, text: A.ledger.doc.getText('t').toString() };
    expect(A.ledger.stats().untracked).toEqual({ signed: 0, undone: 1 });
    await A.ledger.close();
    const again = await openLedger(memoryLocation(disk), 61, { compactEvery: 0 });
    expect({ digest: again.ledger.stats().stateDigest, text: again.ledger.doc.getText('t').toString() }).toEqual(live);
    await again.ledger.close();
    expect(await replayed(A)).toEqual({ ...live, text: '' });
  });

  it('Fixed: a delete applied directly is signed, so every node shows it', async () => {
    const disk = new MemoryDisk();
    const A = await openLedger(memoryLocation(disk), 62, { compactEvery: 0 });
    A.ledger.registerType('t', 'text');
    await A.ledger.put('a', 1);
    A.ledger.doc.getText('t').insert(0, 'hello');
    await settle(A);
    const copy = new Y.Doc();
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(A.ledger.doc));
    copy.getText('t').delete(0, 5);
    Y.applyUpdate(A.ledger.doc, Y.encodeStateAsUpdate(copy, Y.encodeStateVector(A.ledger.doc)), 'provider');
    await settle(A);
    await A.ledger.compact();
    expect(A.ledger.stats().untracked).toEqual({ signed: 2, undone: 0 });
    const live = { digest: A.ledger.stats().stateDigest, text: A.ledger.doc.getText('t').toString() };
    expect(live.text).toBe('');
    await A.ledger.close();
    const again = await openLedger(memoryLocation(disk), 62, { compactEvery: 0 });
    expect({ digest: again.ledger.stats().stateDigest, text: again.ledger.doc.getText('t').toString() }).toEqual(live);
    await again.ledger.close();
    expect(await replayed(A)).toEqual(live);
  });
});
