import { describe, expect, it } from 'vitest';
import { MemoryDisk, MemoryLedgerStore } from '../../src/lib/core/memory-store.js';
import { runStoreCompliance, type StoreHarness } from '../helpers/store-compliance.js';
import { fakeFeed, randomBytes } from '../helpers/fake-feed.js';
import type { MemoryFaults } from '../../src/lib/core/memory-store.js';

runStoreCompliance('memory', async (): Promise<StoreHarness> => {
  const disk = new MemoryDisk();
  const faults: MemoryFaults = {};
  return {
    open: async () => new MemoryLedgerStore({ disk, faults }),
    failNextWriteTo: (table) => void (faults.failOnTable = table)
  };
});

describe('MemoryLedgerStore fault injection', () => {
  it('failAfterWrites fails the whole transaction at the nth row write', async () => {
    const store = new MemoryLedgerStore();
    const batch = fakeFeed(randomBytes(32), 4);
    store.faults = { failAfterWrites: 3 };
    await expect(store.ingest(batch)).rejects.toMatchObject({ name: 'StorageQuotaError' });
    expect(await store.count()).toBe(0);
    expect((await store.ingest(batch)).added).toBe(4);
  });

  it('a sticky non-quota fault passes its own error through and keeps failing', async () => {
    const boom = new Error('disk on fire');
    const store = new MemoryLedgerStore({ faults: { failAfterWrites: 0, error: boom, sticky: true } });
    const batch = fakeFeed(randomBytes(32), 2);
    await expect(store.ingest(batch)).rejects.toBe(boom);
    await expect(store.appendLocal(batch[0])).rejects.toBe(boom);
    expect(await store.count()).toBe(0);
  });

  it('emulates a quota over stored bytes', async () => {
    const store = new MemoryLedgerStore({ quotaBytes: 2000 });
    const author = randomBytes(32);
    const feed = fakeFeed(author, 200);
    let stored = 0;
    for (const h of feed) {
      try {
        await store.appendLocal(h);
        stored++;
      } catch (e) {
        expect(e).toMatchObject({ name: 'StorageQuotaError' });
        break;
      }
    }
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThan(200);
    expect(await store.count()).toBe(stored);
    const est = await store.estimate();
    expect(est!.usage).toBeLessThanOrEqual(2000);
    expect(est!.quota).toBe(2000);
  });
});
