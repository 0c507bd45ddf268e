// Red team 6b (issue 6 case 6 / kind "what is stored is verified on open"): compaction seal v2
// binds the state only through its digest, and the digest hashes the INTEGRATED state (pending
// structs are left out, state/digest.ts). So bytes appended to the stored state as Yjs-pending
// structs leave digest, heads and seal unchanged, and replay's checks (seal, digest, clients of
// store.clients, clocks) all look at integrated structs only. (Seal v1 hashed the state bytes
// and caught this.)
//
// Input: node N holds honest author H's entries (H's Yjs clock ends at c) and compacts. Between
//   two opens, the stored compaction state is replaced by Y.mergeUpdates([state, forged]) where
//   `forged` is one struct under H's clientID at clock c + 1 (records.evil = {v: 'forged', a: H,
//   ...}): pending, since clock c (H's next) is missing. No key is needed. Then H signs its next write (clock c, 1 unit).
// Expected: the open fails with CorruptStoreError (the stored state is not what was sealed), or
//   at least N never shows a record H did not sign.
// Actual (measured): the store opens with no error (only stats().yjsPending is true); once H's next entry
//   arrives, Yjs integrates the forged struct behind it: N shows records.evil = 'forged' under H,
//   and H's real next write at clock c + 1 is then a Yjs duplicate on N. N's digest differs from
//   every other node's given the same entries, for good.
// Suggested fix: refuse a compaction state that leaves pending structs or a pending delete set
//   after loading (LedgerState.hasPending() in checkCompaction, as join/verify.ts checkState
//   does), and require the stored state to be canonical (bytesEqual(state.canonical().canonical,
//   c.state)) so the digest covers every stored byte.
// Fixed (ledger-replay.ts checkCompaction): a compacted state with structs left pending is
// refused, and under a v2 seal its bytes must be exactly the canonical state.
import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { deleteOnly, yUpdateAt } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

/**
 * Node N (key byte `nByte`, on `loc`) holds honest H's first entry (and, if `putMine`, a write of
 * its own), compacts and closes; `c`: H's Yjs clock after it in the stored compaction state.
 */
async function compacted(hByte: number, nByte: number, putMine: boolean) {
  const H = await openLedger(memoryLocation(), hByte, { compactEvery: 0 });
  await H.ledger.put('h1', 1);
  const loc = memoryLocation();
  const n = await openLedger(loc, nByte, { compactEvery: 0 });
  await n.ledger.ingest(H.log);
  if (putMine) await n.ledger.put('mine', 1);
  await n.ledger.compact();
  await n.ledger.close();

  const stored = loc.disk.compaction!;
  const client = clientIdOf(H.ledger.author);
  const doc = new Y.Doc({ gc: false });
  Y.applyUpdate(doc, stored.state);
  const c = Y.getState(doc.store, client);
  doc.destroy();
  return { H, loc, stored, client, c };
}

describe('redteam6b: pending structs appended to the sealed compaction state', () => {
  it('a compaction state carrying forged pending structs is refused on open', async () => {
    const { H, loc, stored, client, c } = await compacted(241, 242, true);
    // The stored record form (record-value.ts): value, author claim, time, lamport.
    const forged = yUpdateAt('evil', { v: 'forged', a: H.ledger.author, t: 1_700_000_000_005, l: 3 }, client, c + 1);
    loc.disk.compaction = { ...stored, state: Y.mergeUpdates([stored.state, forged]) };

    const opened = await openLedger(loc, 242, { compactEvery: 0 }).then(
      (again) => again,
      (e: unknown) => (e as Error).name
    );
    if (typeof opened !== 'string') {
      // Opened: show what it leads to.
      await H.ledger.put('h2', 2); // H's clock c, one unit
      const before = H.log.length;
      await opened.ledger.ingest(H.log);
      const evil = opened.ledger.get('evil');
      await H.ledger.close();
      await opened.ledger.close();
      expect(before).toBe(2);
      expect({ opened: true, evil }).toEqual({ opened: true, evil: undefined });
      return;
    }
    await H.ledger.close();
    expect(opened).toBe('CorruptStoreError');
  });
  // Input: as above, but the appended bytes are only a delete set over H's clocks c .. c + 99
  //   (not yet written: Yjs keeps it as its pending delete set).
  // Expected: CorruptStoreError on open, or H's next write shows on N.
  // Actual (measured): the store opens; H's next write (h2) arrives, is stored and applied, and
  //   is deleted at once by the hidden delete set: N never shows it, and no conflict names who
  //   removed it (issue 6 case 3, through the store).
  it('a compaction state carrying a pending delete set over future clocks is refused on open', async () => {
    const { H, loc, stored, client, c } = await compacted(243, 244, false);
    // A delete set over H's clocks c .. c + 99, none written yet.
    loc.disk.compaction = { ...stored, state: Y.mergeUpdates([stored.state, deleteOnly(client, c, 100)]) };

    const opened = await openLedger(loc, 244, { compactEvery: 0 }).then(
      (again) => again,
      (e: unknown) => (e as Error).name
    );
    if (typeof opened !== 'string') {
      await H.ledger.put('h2', 2);
      await opened.ledger.ingest(H.log);
      const h2 = opened.ledger.get('h2');
      await H.ledger.close();
      await opened.ledger.close();
      expect({ opened: true, h2 }).toEqual({ opened: true, h2: 2 });
      return;
    }
    await H.ledger.close();
    expect(opened).toBe('CorruptStoreError');
  });
});
