// A local write refused because the store changed under the running node (deleted by "Clear site
// data", replaced) reaches the page as StoreChangedError with words a user can act on; other
// errors pass unchanged. Found by a break-it review (2026-12-04): the page showed
// "FeedHeadMismatchError: local append … seq 4, expected 1".
import { describe, expect, it } from 'vitest';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { DexieLedgerStore } from '../../src/lib/platform/dexie-store.js';
import { Ledger } from '../../src/lib/core/ledger.js';
import { StorageQuotaError } from '../../src/lib/core/errors.js';
import { genesis, testClock } from '../helpers/ledger-nodes.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';
import { explainWriteError } from '../../src/lib/worker/write-errors.js';

describe('explained write errors', () => {
  it('a store deleted under the node: the write fails as StoreChangedError, saying to reload', async () => {
    const indexedDB = new IDBFactory();
    const store = await DexieLedgerStore.open({ name: 'cleared', indexedDB, IDBKeyRange });
    const ledger = await Ledger.open({ store, genesis, keys: await keysFromByte(41), now: testClock() });
    await ledger.put('a', 1);
    await new Promise<void>((resolve, reject) => {
      const req = indexedDB.deleteDatabase('cleared');
      req.onsuccess = () => resolve();
      req.onerror = () => reject(req.error);
    });
    const raw = await ledger.put('b', 2).then(
      () => null,
      (e: unknown) => e
    );
    const shown = explainWriteError(raw) as Error & { code?: string };
    expect(shown.name).toBe('StoreChangedError');
    expect(shown.code).toBe('store-changed');
    expect(shown.message).toMatch(/Clear site data.*reload the page/);
    await ledger.close();
  });

  it('other errors pass unchanged', () => {
    const q = new StorageQuotaError('full');
    expect(explainWriteError(q)).toBe(q);
    expect(explainWriteError('x')).toBe('x');
  });
});
