// Red team 6b (issue 6 case 6 / kind "what is stored is verified on open ... when the store
// changes under the node, the node notices"): an entry row below the compaction is deleted
// (browser eviction of part of the data, another tab, a hand edit). Replay checks only that the
// store holds no MORE entries than its heads cover (ledger-replay.ts checkHeadsCover), and
// replays from the compaction head, so a missing entry at or below it goes unnoticed.
//
// Input: full node N holds H's entries 1..3, compacts, closes; N's row of H#2 is deleted; reopen.
// Expected: the open fails with CorruptStoreError (a full store that holds fewer entries than its
//   heads cover, with nothing recorded as pruned), or N reports the loss (stats().storage.pruned,
//   role) and does not claim to hold H#2.
// Actual (measured): the store opens without error; stats() says entries 3, role 'full', pruned
//   0; the loss shows up only later: a full export throws IncompleteExportError "the store lacks
//   entry 2", and sync range answers for H stop at seq 1 while N's head claims 3.
// Suggested fix: on open, compare store.count() with the heads' coverage minus what the store
//   records as pruned (light budget), and refuse (CorruptStoreError) a full store that lacks rows;
//   or at least check the compaction heads' own entries exist.
// Fixed (ledger-replay.ts checkEntriesHeld): on open the store's entry count must equal what the
//   heads cover less what it records as not held (light head headers, pruned-header rows).
import { describe, expect, it } from 'vitest';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

describe('redteam6b: an entry row deleted below the compaction', () => {
  it('a full store missing an entry row is refused on open, or reports the loss', async () => {
    const H = await openLedger(memoryLocation(), 211, { compactEvery: 0 });
    for (let i = 1; i <= 3; i++) await H.ledger.put(`h${i}`, i);
    await H.ledger.close();
    const loc = memoryLocation();
    const n = await openLedger(loc, 212, { compactEvery: 0 });
    await n.ledger.ingest(H.log);
    await n.ledger.compact();
    await n.ledger.close();
    expect(loc.disk.entries.get(H.ledger.author)!.delete(2)).toBe(true);

    const outcome = await openLedger(loc, 212, { compactEvery: 0 }).then(
      async (again) => {
        const s = again.ledger.stats({ digest: false });
        await again.ledger.close();
        return { error: undefined, honest: s.storage.pruned > 0 || s.storage.role !== 'full' };
      },
      (e: unknown) => ({ error: (e as Error).name, honest: true })
    );
    expect(outcome.error === 'CorruptStoreError' || outcome.honest).toBe(true);
  });
});
