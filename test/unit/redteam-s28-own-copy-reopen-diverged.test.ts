// Red team (s28): a copy reopened later (retryOpen) that holds MORE own entries than the store,
// on another branch (the store is an older copy of the profile and wrote seq 1 again while the
// copy was locked). agreeWithStore is skipped when the copy's last seq is above the head, so the
// reopened copy is kept as is: signedUpTo() jumps to 3, every later write is refused
// (OwnFeedBehindError; resume() can never ingest 2..3: they follow the other seq 1), and
// status().ownCopy says 'on' with no error. At start, the same copy is reported (settleRefused).
// Fixed: a reopened copy whose entry at the own head is not the store's is turned off (branchFrom).
import { describe, expect, it } from 'vitest';
import { startWithCopy, stopCopyNode, writeAndStop } from '../helpers/own-copy-node.js';
import { MemoryDisk } from '../../src/lib/core/memory-store.js';
import { lockableOpen, MemoryCopyFile } from '../helpers/memory-copy-file.js';
import { pollUntil } from '../helpers/poll.js';

const until = (cond: () => boolean, what: string) => pollUntil(cond, what, 5_000, 5);

describe('redteam s28: reopened copy on another branch of the own feed', () => {
  it('is reported, not silently adopted with writes wedged behind it', async () => {
    const file = new MemoryCopyFile();
    const keys = await writeAndStop(new MemoryDisk(), file, 3);

    // An older store of this device: its key, none of its entries. The copy is locked at start.
    const { s: lock, open } = lockableOpen(() => file.reopen());
    const n = await startWithCopy(new MemoryDisk(), open, { retryMs: 20, keys });
    n.keeper.retryOpen(n.ledger);
    await n.ledger.put('x', 1); // seq 1 signed again while the copy is locked
    lock.locked = false;
    await until(
      () => n.keeper.status().state !== 'off' || /another branch/.test(n.keeper.status().error ?? ''),
      'the copy reopened and settled'
    );
    await new Promise((r) => setTimeout(r, 50));

    const status = n.keeper.status();
    const write = await n.ledger.put('y', 2).then(
      () => 'written',
      (e: Error) => e.name
    );
    // Either the diverged copy is not used (writes go on), or the status says why writes stop.
    expect(write === 'written' || (status.error !== null && status.state !== 'on')).toBe(true);
    // Fixed: the reopened copy's seq 1 is not the store's: it is turned off, kept untouched, and said.
    expect(write).toBe('written');
    expect(status).toMatchObject({ state: 'off' });
    expect(status.error).toMatch(/another branch of this device's feed \(its seq 1 is not this store's/);
    await stopCopyNode(n);
  });
});
