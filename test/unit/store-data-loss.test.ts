// A store the browser reset (Chromium deletes an origin's IndexedDB backing store it finds
// corrupt and reports `dataLoss: 'total'` on the open's upgrade event): the Dexie store reports
// what IndexedDB said, and the node records it in the new store's meta for every later start.
import { describe, expect, it } from 'vitest';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { DexieLedgerStore } from '../../src/lib/platform/dexie-store.js';
import { dataLossOf, DATA_LOSS_MESSAGE_MAX, watchDataLoss } from '../../src/lib/platform/idb-data-loss.js';
import { MemoryLedgerStore } from '../../src/lib/core/memory-store.js';
import { noteStoreReset, STORE_RESET_META } from '../../src/lib/worker/store-reset.js';

/**
 * fake-indexeddb whose upgrade events carry Chromium's dataLoss fields, as Chromium sends them
 * on the first open after it deleted a corrupt backing store. Its listener runs first.
 */
function chromiumLike(loss: { dataLoss: string; dataLossMessage: string } | null): IDBFactory {
  // `loss` is read at each upgrade: a test may change it between opens.
  const real = new IDBFactory();
  return new Proxy(real, {
    get(target, prop) {
      if (prop === 'open')
        return (name: string, version?: number) => {
          const req = target.open(name, version);
          req.addEventListener('upgradeneeded', (ev) => {
            if (loss !== null) Object.assign(ev, loss);
          });
          return req;
        };
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as () => unknown).bind(target) : v;
    }
  });
}

describe('IndexedDB data loss at open', () => {
  it('reads Chromium fields only: none and absent are no loss; the message is bounded', () => {
    expect(dataLossOf(new Event('upgradeneeded'))).toBeNull();
    expect(dataLossOf(Object.assign(new Event('x'), { dataLoss: 'none', dataLossMessage: '' }))).toBeNull();
    const long = Object.assign(new Event('x'), { dataLoss: 'total', dataLossMessage: 'y'.repeat(10_000) });
    expect(dataLossOf(long)).toEqual({ amount: 'total', message: 'y'.repeat(DATA_LOSS_MESSAGE_MAX) });
    expect(dataLossOf(Object.assign(new Event('x'), { dataLoss: 'total', dataLossMessage: 7 }))).toEqual({
      amount: 'total',
      message: ''
    });
  });

  it('the Dexie store reports what the upgrade event said, and nothing on a plain open', async () => {
    const lossy = await DexieLedgerStore.open({
      name: 'wiped',
      indexedDB: chromiumLike({ dataLoss: 'total', dataLossMessage: 'Corruption: checksum mismatch' }),
      IDBKeyRange
    });
    expect(lossy.dataLoss).toEqual({ amount: 'total', message: 'Corruption: checksum mismatch' });
    // The wrapped factory still works as the store's: a write and a read round-trip.
    await lossy.setMeta('k', 1);
    expect(await lossy.getMeta('k')).toBe(1);
    await lossy.close();
    const plain = await DexieLedgerStore.open({ name: 'fine', indexedDB: chromiumLike(null), IDBKeyRange });
    expect(plain.dataLoss).toBeNull();
    await plain.destroy();
    // A loss reported on a reopen Dexie makes later (the database went away under it) is kept too.
    const loss = { dataLoss: 'none', dataLossMessage: '' };
    const factory = chromiumLike(loss);
    const store = await DexieLedgerStore.open({ name: 'later', indexedDB: factory, IDBKeyRange });
    expect(store.dataLoss).toBeNull();
    Object.assign(loss, { dataLoss: 'total', dataLossMessage: 'found corrupt while running' });
    await new Promise<void>((resolve, reject) => {
      const req = factory.deleteDatabase('later');
      req.onsuccess = () => resolve();
      req.onerror = () => reject(req.error);
    });
    await store.getMeta('any');
    expect(store.dataLoss).toEqual({ amount: 'total', message: 'found corrupt while running' });
    await store.close();
  });

  it('the listener is on the request before the caller sets its own handlers', async () => {
    const seen: string[] = [];
    const f = watchDataLoss(chromiumLike({ dataLoss: 'total', dataLossMessage: 'm' }), (l) => seen.push(l.amount));
    const req = f.open('direct', 3);
    await new Promise<void>((resolve, reject) => {
      req.onupgradeneeded = () => seen.push('caller');
      req.onsuccess = () => {
        req.result.close();
        resolve();
      };
      req.onerror = () => reject(req.error);
    });
    expect(seen).toEqual(['total', 'caller']);
    // Other members are the factory's own, bound to it.
    expect(f.cmp(1, 2)).toBe(-1);
    expect((await f.databases()).map((d) => d.name)).toContain('direct');
  });

  it('the node records a reset in the new store and reports it on later starts', async () => {
    const store = new MemoryLedgerStore();
    expect(await noteStoreReset(store, 1000)).toBeNull();
    Object.assign(store, { dataLoss: { amount: 'total', message: 'why' } });
    expect(await noteStoreReset(store, 2000)).toEqual({ at: 2000, amount: 'total', message: 'why' });
    Object.assign(store, { dataLoss: null });
    expect(await noteStoreReset(store, 3000)).toEqual({ at: 2000, amount: 'total', message: 'why' });
    // A meta value of another shape is not a reset; a long one is bounded when read back.
    await store.setMeta(STORE_RESET_META, { at: 'x' });
    expect(await noteStoreReset(store, 4000)).toBeNull();
    await store.setMeta(STORE_RESET_META, { at: 1, amount: 'a'.repeat(100), message: 'm'.repeat(200_000) });
    const long = await noteStoreReset(store, 5000);
    expect([long?.amount.length, long?.message.length]).toEqual([16, DATA_LOSS_MESSAGE_MAX]);
  });
});
