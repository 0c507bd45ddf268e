import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import Dexie from 'dexie';
import { describe, expect, it } from 'vitest';
import { isQuotaError, toStorageError } from '../../src/lib/core/storage-rules.js';
import { DexieLedgerStore } from '../../src/lib/platform/dexie-store.js';
import { ledgerDbName } from '../../src/lib/platform/dexie-schema.js';
import { faultAddon, type DexieFaultPlan } from '../helpers/dexie-faults.js';
import { runStoreCompliance, type StoreHarness } from '../helpers/store-compliance.js';

let dbs = 0;

runStoreCompliance('dexie (fake-indexeddb)', async (): Promise<StoreHarness> => {
  const indexedDB = new IDBFactory();
  const name = ledgerDbName(`test-${++dbs}`);
  const plan: DexieFaultPlan = {};
  return {
    open: () => DexieLedgerStore.open({ name, indexedDB, IDBKeyRange, addons: [faultAddon(plan)] }),
    failNextWriteTo: (table) => void (plan.failOnTable = table)
  };
});

describe('quota error recognition', () => {
  const quota = new DOMException('full', 'QuotaExceededError');
  it('recognizes raw, Dexie and wrapped quota errors', () => {
    expect(isQuotaError(quota)).toBe(true);
    expect(isQuotaError(new Dexie.QuotaExceededError('full'))).toBe(true);
    expect(isQuotaError(new Dexie.AbortError('aborted', quota))).toBe(true);
    expect(isQuotaError({ name: 'AbortError', cause: { name: 'QuotaExceededError' } })).toBe(true);
    expect(isQuotaError(new Dexie.BulkError('bulkAdd failed', { 3: quota }))).toBe(true);
    expect(isQuotaError(new Dexie.BulkError('bulkAdd failed', { 0: new Dexie.ConstraintError('dup') }))).toBe(false);
    expect(isQuotaError(new Dexie.AbortError('aborted'))).toBe(false);
    expect(isQuotaError(new DOMException('x', 'ConstraintError'))).toBe(false);
    expect(isQuotaError(undefined)).toBe(false);
  });
  it('maps them to StorageQuotaError keeping the cause, and passes others through', () => {
    const mapped = toStorageError(new Dexie.AbortError('aborted', quota)) as Error & { cause?: unknown };
    expect(mapped.name).toBe('StorageQuotaError');
    expect(mapped.cause).toBeInstanceOf(Dexie.AbortError);
    const other = new Error('x');
    expect(toStorageError(other)).toBe(other);
  });
});

describe('DexieLedgerStore', () => {
  it('separates networks by database name', async () => {
    const indexedDB = new IDBFactory();
    const a = await DexieLedgerStore.open({ name: ledgerDbName('aa'), indexedDB, IDBKeyRange });
    const b = await DexieLedgerStore.open({ name: ledgerDbName('bb'), indexedDB, IDBKeyRange });
    await a.setMeta('k', 1);
    expect(await b.getMeta('k')).toBeUndefined();
    expect(a.name).toBe('tabula-aa');
    await a.close();
    await b.close();
  });
});
