// Red team (s29b): since 083ae47 restore() runs agreeWithStore and the fill as separate serial
// steps. When agreeWithStore starts the copy over (its last entry is damaged: here the last byte
// of its signature flipped, which decodes and links, so the copy opens and branchFrom calls it
// damage, not a branch), the copy is empty (identity, lastSeq 0) until the first fill step. A
// local write whose mirror() was queued while agreeWithStore read the store (IndexedDB under load)
// runs between the two steps: append() sees no gap (`last !== 0 && ...` is false for an empty
// copy) and appends seq head+1 to the empty copy. The fill then starts above it: the copy holds
// only the new write, never the store's seqs 1..head, and says 'on' with no error, at this and
// every later start (the copy's last entry agrees with the store). A discarded store gets nothing back
// (restored: entries 0, waiting 11: local writes refused until peers bring seqs 1..10). Passes at 5c17255.
// Fixed: agreeWithStore runs in the fill's first serial step, and an empty copy takes an append
// only from seq 1 (append's gap check).
import { describe, expect, it } from 'vitest';
import { ownHead, startWithCopy, stopCopyNode, writeAndStop } from '../helpers/own-copy-node.js';
import { MemoryDisk } from '../../src/lib/core/memory-store.js';
import { lockableOpen, MemoryCopyFile } from '../helpers/memory-copy-file.js';
import { pollUntil } from '../helpers/poll.js';
import type { HashedEntry } from '../../src/lib/core/types.js';

const until = (cond: () => boolean, what: string) => pollUntil(cond, what, 5_000, 2);

describe('redteam s29b: a write between agreeWithStore and the first fill step', () => {
  it('a copy started over by agreeWithStore still ends holding the whole own feed', async () => {
    const disk = new MemoryDisk();
    const file = new MemoryCopyFile();
    await writeAndStop(disk, file, 3); // store and copy: seqs 1..3
    const damaged = file.reopen();
    damaged.bytes[damaged.bytes.length - 1] ^= 0xff; // last byte of seq 3's signature
    const { s: lock, open } = lockableOpen(() => damaged.reopen());
    const n = await startWithCopy(disk, open, { retryMs: 20 });
    n.keeper.retryOpen(n.ledger);
    for (let i = 3; i < 10; i++) await n.ledger.put(`k${i}`, i); // store at 10, copy locked
    const head = ownHead(n.ledger);
    expect(head).toBe(10);

    // The store answers the reads of seq 3 in 40 ms; during the third (agreeWithStore's), a write.
    let during: Promise<HashedEntry> | undefined;
    let reads = 0;
    const getEntry = n.store.getEntry.bind(n.store);
    n.store.getEntry = (author: string, seq: number) => {
      if (seq !== 3) return getEntry(author, seq);
      if (++reads === 3) during = n.ledger.put('during', 1);
      return new Promise((r) => setTimeout(() => r(getEntry(author, seq)), 40));
    };
    lock.locked = false;
    await until(() => during !== undefined, 'agreeWithStore read the store');
    const w = await during!;
    expect(w.entry.seq).toBe(head + 1);
    await new Promise((r) => setTimeout(r, 200)); // the fill
    const status = n.keeper.status();
    await stopCopyNode(n);

    // A discarded store gets the whole own feed back from the copy.
    const back = await startWithCopy(new MemoryDisk(), lock.opened!.reopen());
    const restored = back.keeper.status().restored;
    await stopCopyNode(back);

    // The copy holds the whole feed (or at least does not say 'on'), and restores all of it.
    expect({ lastSeq: status.lastSeq, firstSeq: status.firstSeq, state: status.state, restored }).toEqual({
      lastSeq: head + 1,
      firstSeq: 1,
      state: 'on',
      restored: { identity: true, entries: head + 1 }
    });
  }, 30_000);
});
