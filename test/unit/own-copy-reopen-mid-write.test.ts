// A copy locked at start that opens while a local write is between its check of what the copy
// signed (Ledger ownSignedUpTo) and its commit. The store is an older copy of the profile: it
// holds own seqs 1..2, the copy 1..5. Before, the copy was adopted at once, its branch checked
// against the head of before the write (2, the same entry): the write then stored seq 3 (another
// entry than the copy's seq 3), the copy said 'on' with no error, and every later write waited
// for seqs 4..5, which can never follow this store's seq 3. Now the copy is adopted between
// write groups (Ledger betweenWrites): it sees the head the write left (3, not the copy's) and is
// turned off with the reason, and writes go on.
import { describe, expect, it } from 'vitest';
import { ownHead, startWithCopy, stopCopyNode, writeAndStop } from '../helpers/own-copy-node.js';
import { MemoryDisk } from '../../src/lib/core/memory-store.js';
import { lockableOpen, MemoryCopyFile } from '../helpers/memory-copy-file.js';
import { pollUntil } from '../helpers/poll.js';

const RETRY_MS = 20;

describe('own copy opened while a local write is in flight', () => {
  it('is adopted between write groups: a diverged copy is turned off, writes go on', async () => {
    const disk = new MemoryDisk();
    const file = new MemoryCopyFile();
    const keys = await writeAndStop(disk, file, 2);
    const older = disk.copy(); // the store as it was at seq 2
    const copyAt2 = file.bytes.slice();
    // The copy goes on to seq 5 on the newer store (another device state of this profile).
    const newer = await startWithCopy(disk, file);
    for (let i = 2; i < 5; i++) await newer.ledger.put(`k${i}`, i);
    await stopCopyNode(newer);
    expect(file.bytes.length).toBeGreaterThan(copyAt2.length);

    const { s: lock, open } = lockableOpen(() => file.reopen());
    const n = await startWithCopy(older, open, { retryMs: RETRY_MS, keys });
    expect(ownHead(n.ledger)).toBe(2);
    n.keeper.retryOpen(n.ledger);

    // The next commit opens the lock and gives the copy time to open before storing.
    const appendLocal = n.store.appendLocal.bind(n.store);
    let armed = true;
    n.store.appendLocal = async (...a: Parameters<typeof appendLocal>) => {
      if (armed) {
        armed = false;
        lock.locked = false;
        await pollUntil(() => n.keeper.status().state !== 'off', 'copy adopted', 500, 5).catch(() => undefined);
      }
      return appendLocal(...a);
    };
    await n.ledger.put('mid', 'write'); // seq 3 on this store: signed before the copy was open
    expect(ownHead(n.ledger)).toBe(3);
    const settled = () => n.keeper.status().state !== 'off' || !/unavailable/.test(n.keeper.status().error ?? '');
    await pollUntil(settled, 'the copy opened and settled', 5_000, 5);

    const status = n.keeper.status();
    expect(status.state).toBe('off');
    expect(status.error).toMatch(/another branch of this device's feed \(its seq 3 is not this store's/);
    const next = await n.ledger.put('after', 1).then(
      (h) => h.entry.seq,
      (e: Error) => e.name
    );
    expect(next).toBe(4);
    await stopCopyNode(n);
  });
});
