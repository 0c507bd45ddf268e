// A store read failing while the copy is compared with the store at start (agreeWithStore) says
// nothing about the copy: it is kept as it is, not started over (before, a transient read error
// reset a good copy, and with the store still unreadable the refill failed: the copy was left
// empty, and a store discarded next had nothing to come back from).
import { describe, expect, it } from 'vitest';
import { writeAndStop, startWithCopy, stopCopyNode } from '../helpers/own-copy-node.js';
import { MemoryDisk } from '../../src/lib/core/memory-store.js';
import { MemoryCopyFile } from '../helpers/memory-copy-file.js';

describe('own copy compared with the store at start', () => {
  it('is kept when the store cannot be read', async () => {
    const disk = new MemoryDisk();
    const file = new MemoryCopyFile();
    await writeAndStop(disk, file, 3);
    const reopened = file.reopen();
    const before = reopened.bytes.slice();

    // The store's reads fail once the ledger is open, while the copy is compared with it.
    let failed = 0;
    let restore = (): void => undefined;
    const unreadable = async (): Promise<never> => {
      failed++;
      throw new Error('UnknownError: the store could not be read');
    };
    const n = await startWithCopy(disk, reopened, {
      beforeReconcile: (store) => {
        const { getEntry, getRange } = store;
        restore = () => void Object.assign(store, { getEntry, getRange });
        store.getEntry = unreadable;
        store.getRange = unreadable;
      }
    });
    restore();
    const { keeper, ledger } = n;

    expect(failed).toBeGreaterThan(0);
    expect(reopened.bytes).toEqual(before); // not started over
    expect(keeper.status()).toMatchObject({ state: 'on', lastSeq: 3 });
    const w = await ledger.put('k3', 3);
    expect(keeper.status().lastSeq).toBe(w.entry.seq);
    await stopCopyNode(n);
  });
});
