// Red team (s29b): 083ae47 says a local write made while a late-opened copy is filled waits for
// one store page at most, not the whole fill (README limit removed). But `filling` is set only
// when fillInSteps starts, after restore()'s branch check (offIfBranch: a store read) and its
// ingest of the copy's entries. A write whose mirror() runs in that window finds a gap with
// `filling` false and runs the old whole fill (fill(upTo), pages = Infinity) inside its own write
// step: here 4 pages at 30 ms each, the write acknowledged only once the whole copy is filled,
// and the ledger's queue held meanwhile, the limit the commit removed from the README.
// Fixed: `filling` is set for the whole reconcile (restore and fill), and the step that catches
// up clears it.
import { describe, expect, it } from 'vitest';
import { lockedWithBacklog, slowRanges, stopCopyNode } from '../helpers/own-copy-node.js';
import { pollUntil } from '../helpers/poll.js';
import type { HashedEntry } from '../../src/lib/core/types.js';

const until = (cond: () => boolean, what: string) => pollUntil(cond, what, 20_000, 2);

describe('redteam s29b: a write during the reopened copy’s branch check', () => {
  it('waits for one page of the fill at most, not the whole fill', async () => {
    const { n, lock, head } = await lockedWithBacklog(3);

    // A store that answers a page in 30 ms, and the branch check's read of seq 3 in 30 ms.
    slowRanges(n.store, 30);
    let during: Promise<HashedEntry> | undefined;
    let reads = 0;
    const getEntry = n.store.getEntry.bind(n.store);
    n.store.getEntry = (author: string, seq: number) => {
      if (seq !== 3) return getEntry(author, seq);
      if (++reads === 2) during = n.ledger.put('during', 1); // restore's branch check
      return new Promise((r) => setTimeout(() => r(getEntry(author, seq)), 30));
    };
    lock.locked = false;
    await until(() => during !== undefined, "restore's branch check");
    const w = await during!;
    const atAck = n.keeper.status();
    await until(() => n.keeper.status().lastSeq === w.entry.seq, 'the fill done');
    await stopCopyNode(n);

    expect(w.entry.seq).toBe(head + 1);
    // Acknowledged while the fill goes on (as own-copy-reopen-fill-steps asks of a write during it).
    expect(atAck.lastSeq).toBeLessThan(head);
  }, 60_000);
});
