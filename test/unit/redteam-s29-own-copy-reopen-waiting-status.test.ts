// Red team (s29): a copy reopened later (retryOpen) that holds own entries the store lacks, on
// the store's branch, one of which waits for another author's entry (an overwrite of A's record;
// the store is an older copy of this profile). Once adopted, signedUpTo() jumps above the own
// head and every local write is refused (OwnFeedBehindError), yet status().ownCopy says
// { state: 'on', error: null, restored: null }. The same copy opened at start reports
// restored.waiting (dashboard: "N more of its own entries wait for entries from peers; writes
// wait for them"). The reopen path never sets restored/waiting, so nothing on the page says why
// writes stopped.
// Fixed: a late-opened copy is reconciled as at start (its entries above the head ingested,
// restored.waiting set), not only filled.
import { describe, expect, it } from 'vitest';
import { otherAuthor, ownHead, startWithCopy, stopCopyNode } from '../helpers/own-copy-node.js';
import { MemoryDisk } from '../../src/lib/core/memory-store.js';
import { lockableOpen, MemoryCopyFile } from '../helpers/memory-copy-file.js';
import { pollUntil } from '../helpers/poll.js';

const until = (cond: () => boolean, what: string) => pollUntil(cond, what, 5_000, 5);

describe('redteam s29: reopened copy ahead of the store on the same branch', () => {
  it('says that writes wait for its entries, as at start', async () => {
    const disk = new MemoryDisk();
    const file = new MemoryCopyFile();
    const first = await startWithCopy(disk, file);
    await first.ledger.put('k0', 0);
    await first.ledger.put('k1', 1); // own seqs 1..2
    const older = disk.copy(); // the store as it was at own seq 2
    const { a, a1 } = await otherAuthor(91);
    await first.ledger.ingest([a1]);
    await first.ledger.put('k', 'mine'); // own seq 3: overwrites A's record, depends on A:1
    await stopCopyNode(first);
    await a.close();

    // At start (the copy not locked), the same state is reported.
    const atStart = await startWithCopy(older.copy(), file.reopen());
    expect(atStart.keeper.status().restored).toMatchObject({ waiting: 1 });
    await stopCopyNode(atStart);

    // Locked at start, opened later.
    const { s: lock, open } = lockableOpen(() => file.reopen());
    const n = await startWithCopy(older, open, { retryMs: 20 });
    n.keeper.retryOpen(n.ledger);
    expect(ownHead(n.ledger)).toBe(2);
    lock.locked = false;
    await until(() => n.keeper.signedUpTo() === 3, 'the copy adopted');
    await new Promise((r) => setTimeout(r, 50));

    const write = await n.ledger.put('after', 1).then(
      () => 'written',
      (e: Error) => e.name
    );
    expect(write).toBe('OwnFeedBehindError'); // writes are refused...
    const status = n.keeper.status();
    // ...so the status must say why (at start: restored.waiting; or an error, or not 'on').
    const says = status.restored?.waiting === 1 || status.error !== null || status.state !== 'on';
    expect(says, JSON.stringify(status)).toBe(true);
    await stopCopyNode(n);
  });
});
