// Red team 6c (compaction seal v3, PROTOCOL.md §10; issue 6 kinds "an import is all-or-nothing"
// and "what is stored is verified on open"): a light snapshot import whose compaction write fails
// (a quota error: the light state is the biggest single write a fresh node makes) leaves the
// snapshot's `head-headers` meta row behind. storeLightState writes the unverified row, then the
// head headers, then the compaction; on failure it deletes only the unverified row. The node then
// goes on as an ordinary node, and checkEntriesHeld counts every seq those unsigned headers name
// as "never held": that many entry rows can vanish from the store unnoticed.
//
// Input: fresh node N (memory store, the next compaction write fails with a quota error) imports
//   a light snapshot of A whose head for H is seq 3; the import throws. N then ingests H#1..3
//   (full history), compacts, closes; N's row of H#2 is deleted; N reopens.
// Expected: the failed import leaves no row behind, and the reopen fails with CorruptStoreError
//   (a full store that lacks a row), as it does for a node that never tried the import.
// Actual (measured): meta `head-headers` still holds [{H, seq 3, ...}]; the reopen succeeds with
//   stats().entries 3 while the store holds 2 of H's entries.
// Suggested fix: storeLightState's catch deletes HEAD_HEADERS_META as well as the unverified row
//   (and replay ignores a `head-headers` row when the store holds no compaction: a crash between
//   the meta writes and the compaction leaves one, and no bootstrap completed).
// Fixed (ledger-replay.ts): storeLightState's catch deletes the head headers too, and replay
//   deletes a `head-headers` row found with no compaction (the crash case, second test).
import { describe, expect, it } from 'vitest';
import { collectBytes } from '../../src/lib/core/snapshot/index.js';
import { exportLedgerSnapshot, importLedgerSnapshot } from '../../src/lib/core/ledger-snapshots.js';
import { HEAD_HEADERS_META } from '../../src/lib/core/ledger-replay.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

describe('redteam6c: a light import whose compaction write fails', () => {
  it('leaves no head headers behind, so a deleted entry row is still found on open', async () => {
    const H = await openLedger(memoryLocation(), 61, { compactEvery: 0 });
    for (let i = 1; i <= 3; i++) await H.ledger.put(`h${i}`, i);
    const A = await openLedger(memoryLocation(), 62, { compactEvery: 0 });
    await A.ledger.ingest(H.log);
    const file = await collectBytes(exportLedgerSnapshot(A.ledger, 'light'));

    const loc = memoryLocation();
    const n = await openLedger(loc, 63, { compactEvery: 0, faults: { failOnTable: 'compaction' } });
    const failed = await importLedgerSnapshot(n.ledger, file).then(
      () => 'imported',
      (e: Error) => e.name
    );
    expect(failed).not.toBe('imported');
    expect(n.ledger.stats({ digest: false }).entries).toBe(0);
    await n.ledger.ingest(H.log);
    expect(n.ledger.stats({ digest: false }).entries).toBe(3);
    await n.ledger.compact(); // entries below a compaction are not replayed, only counted
    await n.ledger.close();
    const leftover = loc.disk.meta.get(HEAD_HEADERS_META);
    expect(loc.disk.entries.get(H.ledger.author)!.delete(2)).toBe(true);

    const reopened = await openLedger(loc, 63, { compactEvery: 0 }).then(
      async (again) => {
        await again.ledger.close();
        return 'opened';
      },
      (e: Error) => e.name
    );
    expect({ leftover, reopened }).toEqual({ leftover: undefined, reopened: 'CorruptStoreError' });
  });

  it('a crash between the head headers and the compaction leaves nothing that hides a deleted row', async () => {
    const H = await openLedger(memoryLocation(), 64, { compactEvery: 0 });
    for (let i = 1; i <= 3; i++) await H.ledger.put(`h${i}`, i);
    const loc = memoryLocation();
    // What storeLightState wrote before the crash: the unverified row and the head headers.
    const header = { author: H.ledger.author, seq: 3, lamport: 3, clock: 3 };
    loc.disk.meta.set(HEAD_HEADERS_META, [header]);
    const n = await openLedger(loc, 65, { compactEvery: 0 });
    await n.ledger.ingest(H.log);
    await n.ledger.compact();
    await n.ledger.close();
    expect(loc.disk.entries.get(H.ledger.author)!.delete(2)).toBe(true);
    const reopened = await openLedger(loc, 65, { compactEvery: 0 }).then(
      async (again) => {
        await again.ledger.close();
        return 'opened';
      },
      (e: Error) => e.name
    );
    expect(reopened).toBe('CorruptStoreError');
  });
});
