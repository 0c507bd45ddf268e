// Issue 6: a store that changes or vanishes under the running node (cleared by the browser,
// deleted, replaced) is noticed. The node never reuses a seq and never forks its own feed.
import { describe, expect, it } from 'vitest';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { DexieLedgerStore } from '../../src/lib/platform/dexie-store.js';
import { Ledger } from '../../src/lib/core/ledger.js';
import { genesis, testClock } from '../helpers/ledger-nodes.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';

describe('a store that vanishes under the running node', () => {
  it('deleted database: writes fail with a typed error and no seq is ever signed twice', async () => {
    const indexedDB = new IDBFactory();
    const name = 'vanish-test';
    const store = await DexieLedgerStore.open({ name, indexedDB, IDBKeyRange });
    const keys = await keysFromByte(40);
    const ledger = await Ledger.open({ store, genesis, keys, now: testClock() });
    const signed: string[] = [];
    ledger.onAppend((h, origin) => {
      if (origin === 'local') signed.push(`${h.entry.seq}`);
    });
    await ledger.put('a', 1);
    await ledger.put('b', 2);
    await new Promise<void>((resolve, reject) => {
      const req = indexedDB.deleteDatabase(name);
      req.onsuccess = () => resolve();
      req.onerror = () => reject(req.error);
    });
    for (let i = 0; i < 3; i++) {
      const err = await ledger.put(`c${i}`, i).then(
        () => null,
        (e: unknown) => e as Error
      );
      expect(err, `write ${i} after the store vanished`).not.toBeNull();
      expect(err!.name).toMatch(/StorageClosedError|CorruptStoreError|FeedHeadMismatchError|StoreVanishedError/);
    }
    expect(signed).toEqual(['1', '2']);
  });
});
