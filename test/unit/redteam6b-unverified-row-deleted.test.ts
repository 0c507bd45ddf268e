// Red team 6b (issue 6 kind "what is stored is verified on open"; compaction seal v2, §10): a state
// bootstrapped from a light snapshot is marked unverified by the meta row `unverified-state`
// (ledger-replay.ts UNVERIFIED_META) until a join quorum or an operator checkpoint vouches for it.
// The seal covers the compaction's digest, heads root and time, not that row: deleting it (another
// tab, an extension, a hand edit; no key needed) turns an unverified, unsigned state into one the
// node reports as verified.
//
// Input: fresh node B imports a light snapshot (stats().unverified is true), closes; the meta row
//   `unverified-state` is deleted; B reopens.
// Expected: B still reports unverified (or the open fails with CorruptStoreError).
// Actual (measured): B opens with stats().unverified === false; nothing records that the state
//   came from an unsigned file.
// Suggested fix: bind the unverified mark (and the light `head-headers`) into the compaction's
//   seal (e.g. seal v3 over [v3, digest, headsRoot, at, unverified marker, headers root]), or
//   store "verified" as the sealed fact instead of "unverified" as an unsealed row.
// Fixed (compaction-seal.ts v3): the seal binds the unverified mark and the hash of the light head
//   headers; the sealed mark holds whether or not its row is still there, and markVerified
//   reseals the compaction without it before deleting the row. A v2-sealed store keeps the row
//   as its only mark (PROTOCOL.md §10).
import { describe, expect, it } from 'vitest';
import { collectBytes } from '../../src/lib/core/snapshot/index.js';
import { exportLedgerSnapshot, importLedgerSnapshot } from '../../src/lib/core/ledger-snapshots.js';
import { UNVERIFIED_META } from '../../src/lib/core/ledger-replay.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

describe('redteam6b: the unverified mark of a light bootstrap deleted from the store', () => {
  it('a light-bootstrapped state stays unverified after its meta row is deleted', async () => {
    const A = await openLedger(memoryLocation(), 251, { compactEvery: 0 });
    await A.ledger.put('a1', 1);
    const file = await collectBytes(exportLedgerSnapshot(A.ledger, 'light'));
    await A.ledger.close();
    const loc = memoryLocation();
    const B = await openLedger(loc, 252, { compactEvery: 0 });
    await importLedgerSnapshot(B.ledger, file);
    expect(B.ledger.stats({ digest: false }).unverified).toBe(true);
    await B.ledger.close();
    expect(loc.disk.meta.delete(UNVERIFIED_META)).toBe(true);

    const outcome = await openLedger(loc, 252, { compactEvery: 0 }).then(
      async (again) => {
        const unverified = again.ledger.stats({ digest: false }).unverified;
        await again.ledger.close();
        return unverified ? 'unverified' : 'verified';
      },
      (e: Error) => e.name
    );
    expect(['unverified', 'CorruptStoreError']).toContain(outcome);
  });
});
