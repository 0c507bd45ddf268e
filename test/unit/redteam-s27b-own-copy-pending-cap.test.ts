// input: node B's first entry overwrites a record of A (dep on A:1); B then writes 299 more (copy
//   holds B:1..300). Chromium discards B's store; B restarts offline with its copy: all 300
//   restored entries wait for A:1. Later A:1 arrives by sync (same session), then B writes.
// expected: PROTOCOL.md §10 / README: "Entries held for a dependency or a gap wait for sync";
//   once A:1 arrives B's head is 300 and its next write is seq 301 (the copy still holds them all).
// observed: the restored entries are ordinary pending entries, bounded by MAX_PENDING_PER_AUTHOR
//   (256; also evicted after PENDING_MAX_AGE_MS = 10 min, or for another author's fair share):
//   only 256 wait, the rest are dropped; after A:1 arrives B's head stops at 256 < copy's 300, and
//   nothing restores 257..300 again in this session: every write is refused (OwnFeedBehindError
//   after the worker's 15 s hold), status still says "waiting" for peers, until a reload re-runs
//   reconcile. Same with a device offline > 10 min after the restore (age eviction).
// severity: medium (writes refused for the whole session though the copy holds what is needed;
//   the message blames peers; a reload fixes it)
// Fixed: a local write that waits for the restored entries (node-runtime ownFeedChecked) first
//   has the keeper ingest the copy's entries above the head again (OwnCopyKeeper.resume).
import { describe, expect, it } from 'vitest';
import { startWithCopy, stopCopyNode, ownHead, otherAuthor } from '../helpers/own-copy-node.js';
import { MemoryDisk } from '../../src/lib/core/memory-store.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';
import { MemoryCopyFile } from '../helpers/memory-copy-file.js';

describe('redteam s27b: more restored entries waiting than the pending budget', () => {
  it('once the dependency arrives, the whole restored feed applies and the next write continues it', async () => {
    const { a, a1 } = await otherAuthor(41);
    const file = new MemoryCopyFile();
    const b = await startWithCopy(new MemoryDisk(), file, { keys: await keysFromByte(42) });
    await b.ledger.ingest([a1]);
    expect((await b.ledger.put('k', 'from B')).entry.deps.length).toBe(1);
    for (let i = 1; i < 300; i++) await b.ledger.put(`b${i}`, i);
    expect(b.keeper.status().lastSeq).toBe(300);
    await stopCopyNode(b);

    const b2 = await startWithCopy(new MemoryDisk(), file.reopen()); // store discarded, offline
    const restored = b2.keeper.status().restored;
    await b2.ledger.ingest([a1]); // A:1 arrives by sync
    expect(ownHead(b2.ledger)).toBe(256); // the pending buffer's cap held the rest back
    await b2.keeper.resume(b2.ledger); // what a waiting write does first (node-runtime)
    const head = ownHead(b2.ledger);
    let wrote: string;
    try {
      wrote = `seq ${(await b2.ledger.put('after', 1)).entry.seq}`;
    } catch (e) {
      wrote = (e as Error).name;
    }
    await stopCopyNode(b2);
    await a.close();
    expect({ restored, head, wrote }).toEqual({
      restored: { identity: true, entries: 0, waiting: 300 },
      head: 300,
      wrote: 'seq 301'
    });
  });
});
