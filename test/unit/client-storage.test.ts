import { describe, expect, it } from 'vitest';
import { requestPersistence, storageInfo } from '../../src/lib/client/storage.js';

function manager(over: Partial<Record<'estimate' | 'persisted' | 'persist', () => Promise<unknown>>> = {}) {
  return {
    estimate: async () => ({ usage: 1234, quota: 10_000 }),
    persisted: async () => false,
    persist: async () => true,
    ...over
  } as unknown as StorageManager;
}

describe('client storage', () => {
  it('reports usage, quota and persistence, and never throws', async () => {
    expect(await storageInfo(manager())).toEqual({ usage: 1234, quota: 10_000, persisted: false, supported: true });
    const broken = manager({
      estimate: () => Promise.reject(new Error('no')),
      persisted: () => Promise.reject(new Error('no'))
    });
    expect(await storageInfo(broken)).toEqual({ usage: null, quota: null, persisted: false, supported: true });
    expect(await storageInfo(undefined)).toEqual({ usage: null, quota: null, persisted: false, supported: false });
  });

  it('asks for persistent storage and reports the answer', async () => {
    expect(await requestPersistence(manager())).toBe(true);
    expect(await requestPersistence(manager({ persist: async () => false }))).toBe(false);
    expect(await requestPersistence(manager({ persist: () => Promise.reject(new Error('x')) }))).toBe(false);
    expect(await requestPersistence(undefined)).toBe(false);
  });
});
