// A start that fails after the ledger and the own copy are open (here: the own-feed check cannot
// read when a node last ran on this store) closes both: the store, so a reload can open it again,
// and the copy's file, whose OPFS handle would otherwise lock it for the worker's life.
import { describe, expect, it } from 'vitest';
import { startNode } from '../../src/lib/worker/node-runtime.js';
import { MemoryDisk, MemoryLedgerStore } from '../../src/lib/core/memory-store.js';
import { ALIVE_META } from '../../src/lib/core/own-feed-check.js';
import { MemoryCopyFile } from '../helpers/memory-copy-file.js';

describe('startNode failing in the own-feed check', () => {
  it('closes the ledger store and the own copy file, and rethrows', async () => {
    const disk = new MemoryDisk();
    let store: MemoryLedgerStore | undefined;
    let file: MemoryCopyFile | undefined;
    const platform = {
      openStore: async () => {
        store = new MemoryLedgerStore({ disk });
        const getMeta = store.getMeta.bind(store);
        store.getMeta = async (key: string) => {
          if (key === ALIVE_META) throw new Error('the disk could not be read');
          return getMeta(key);
        };
        return store;
      },
      openOwnCopyFile: async () => (file = new MemoryCopyFile())
    };
    // Nothing listens there: the bundled genesis is used, as offline.
    const start = startNode({ origin: 'http://127.0.0.1:9', iceServers: [] }, () => undefined, platform);
    await expect(start).rejects.toThrow('the disk could not be read');

    expect(file?.closed).toBe(true);
    await expect(store!.loadIdentity()).rejects.toMatchObject({ name: 'StorageClosedError' });
    // What it had settled stays: a second start on the same disk and copy finds the same key.
    const again = new MemoryLedgerStore({ disk });
    expect(await again.loadIdentity()).toBeDefined();
    expect(file!.bytes.length).toBeGreaterThan(0);
  }, 30_000);
});
