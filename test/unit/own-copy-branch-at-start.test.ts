// A copy on another branch of the own feed found at start: the store (same key) signed seqs the
// copy also holds, with other entries, while the copy was away (locked for a whole session, or the
// store is an older copy of the profile). The copy's signed entries may be nowhere else: it is
// turned off and kept untouched, and writes go on on the store's branch. Before, a copy no longer
// than the store was wiped and refilled from the store, and a longer one wedged every write
// (its entries above the head could never follow the store's).
import { describe, expect, it } from 'vitest';
import { startWithCopy, stopCopyNode, writeAndStop } from '../helpers/own-copy-node.js';
import { MemoryDisk } from '../../src/lib/core/memory-store.js';
import { MemoryCopyFile } from '../helpers/memory-copy-file.js';

describe('own copy on another branch at start', () => {
  for (const [copyWrites, storeWrites] of [
    [3, 3],
    [2, 4],
    [4, 2]
  ] as const)
    it(`copy at seq ${copyWrites}, store at ${storeWrites}: kept untouched, off, writes go on`, async () => {
      const file = new MemoryCopyFile();
      const keys = await writeAndStop(new MemoryDisk(), file, copyWrites); // branch A
      const branchA = file.bytes.slice();
      const disk = new MemoryDisk();
      const b = await startWithCopy(disk, new MemoryCopyFile(), { keys }); // branch B, another copy
      for (let i = 0; i < storeWrites; i++) await b.ledger.put(`b${i}`, i);
      await stopCopyNode(b);

      const reopened = file.reopen();
      const n = await startWithCopy(disk, reopened, { keys });
      const status = n.keeper.status();
      expect(status.state).toBe('off');
      expect(status.error).toMatch(/another branch of this device's feed/);
      const w = await n.ledger.put('after', 1);
      expect(w.entry.seq).toBe(storeWrites + 1);
      await stopCopyNode(n);
      expect(reopened.bytes).toEqual(branchA); // untouched
    });
});
