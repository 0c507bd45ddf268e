// A copy opened late is filled in from the store one page per step (OwnCopyKeeper fillInSteps): a
// local write made meanwhile waits for at most the page being copied, not for the whole fill (a
// break-it review measured 469 ms for 2,000 entries at 50 ms a store page, the ledger's queue held
// meanwhile), and is left to the fill, which copies it after what comes before it. The copy says
// 'behind' until then, and ends complete. The order is checked, not the time.
import { describe, expect, it } from 'vitest';
import { lockedWithBacklog, slowRanges, startWithCopy, stopCopyNode } from '../helpers/own-copy-node.js';
import { MemoryDisk } from '../../src/lib/core/memory-store.js';
import { pollUntil } from '../helpers/poll.js';

const until = (cond: () => boolean, what: string) => pollUntil(cond, what, 20_000, 2);

describe('own copy opened late, filled in steps', () => {
  it('a write during the fill is acknowledged before the fill ends, then copied in order', async () => {
    // 3 pages or more to fill, from a store that answers a page in 30 ms (IndexedDB under load does).
    const { n, lock, head } = await lockedWithBacklog(3);
    slowRanges(n.store, 30);
    lock.locked = false;
    await until(() => n.keeper.status().lastSeq > 3, 'the fill started');

    const during = await n.ledger.put('during', 1);
    const atAck = n.keeper.status();
    expect(atAck.lastSeq).toBeLessThan(head); // acknowledged while the fill goes on
    expect(atAck.state).toBe('behind');

    await until(() => n.keeper.status().state === 'on', 'the fill done');
    expect(n.keeper.status()).toMatchObject({ state: 'on', lastSeq: during.entry.seq, error: null });
    const after = await n.ledger.put('after', 2); // continues the copy directly
    expect(n.keeper.status().lastSeq).toBe(after.entry.seq);
    await stopCopyNode(n);

    // The copy holds the whole own feed, in order: a discarded store gets every entry back.
    const back = await startWithCopy(new MemoryDisk(), lock.opened!.reopen());
    expect(back.keeper.status().restored).toEqual({ identity: true, entries: after.entry.seq });
    expect(back.ledger.get('during')).toBe(1);
    await stopCopyNode(back);
  }, 60_000);
});
